//! `partnergraph export`: a kind's rows as CSV or Excel, in the staff view
//! or one partner's view, from the real binary.

use partnergraph::{clock::Clock, service::demo};
use serde_json::json;

use crate::helpers::binary::cli;

fn csv_rows(stdout: &[u8]) -> Vec<Vec<String>> {
    csv::Reader::from_reader(stdout)
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

fn headers(stdout: &[u8]) -> Vec<String> {
    csv::Reader::from_reader(stdout)
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect()
}

backend_test!(
    export_writes_each_kind_in_the_staff_and_the_partner_view,
    |app| {
        let seeded = demo::seed(&app.db, app.clock.now()).await.unwrap();
        let url = app.database_url();
        let (_, viewer) = app
        .post(&seeded.partner_rep_token, "{ viewer { partner { id name } } dealRegistrations { totalCount } opportunities { totalCount } }", json!({}))
        .await;
        let partner_id = viewer["data"]["viewer"]["partner"]["id"]
            .as_str()
            .unwrap()
            .to_owned();

        for (kind, table, internal) in [
            ("partners", "partner", "internalNotes"),
            ("contacts", "partner_contact", ""),
            ("certifications", "certification", ""),
            ("registrations", "deal_registration", "internalNotes"),
            ("opportunities", "opportunity", "sourcedBy"),
        ] {
            let staff = cli(&url, ["export", kind]);
            assert!(
                staff.status.success(),
                "{}",
                String::from_utf8_lossy(&staff.stderr)
            );
            assert_eq!(
                csv_rows(&staff.stdout).len() as i64,
                app.count(table).await,
                "{kind}"
            );
            let staff_headers = headers(&staff.stdout);
            assert_eq!(staff_headers[0], "id");
            if !internal.is_empty() {
                assert!(
                    staff_headers.iter().any(|h| h == internal),
                    "{kind}: {staff_headers:?}"
                );
            }

            let mine = cli(
                &url,
                [
                    "export",
                    kind,
                    "--view",
                    "partner",
                    "--partner",
                    &partner_id,
                ],
            );
            assert!(
                mine.status.success(),
                "{}",
                String::from_utf8_lossy(&mine.stderr)
            );
            let partner_headers = headers(&mine.stdout);
            for hidden in [
                "internalNotes",
                "marginPercent",
                "customerNps",
                "sourcedBy",
                "coSellWith",
            ] {
                assert!(
                    !partner_headers.iter().any(|h| h == hidden),
                    "{kind} shows {hidden}"
                );
            }
            let rows = csv_rows(&mine.stdout);
            match kind {
                "partners" => assert_eq!(rows.len(), 1),
                "registrations" => assert_eq!(
                    rows.len() as i64,
                    viewer["data"]["dealRegistrations"]["totalCount"]
                        .as_i64()
                        .unwrap()
                ),
                "opportunities" => assert_eq!(
                    rows.len() as i64,
                    viewer["data"]["opportunities"]["totalCount"]
                        .as_i64()
                        .unwrap()
                ),
                _ => assert!(!rows.is_empty(), "{kind}"),
            }
            if let Some(column) = partner_headers.iter().position(|h| h == "partner") {
                assert!(
                    rows.iter().all(|r| r[column] == seeded.partner_name),
                    "{kind}"
                );
            }
        }

        let file = tempfile::Builder::new().suffix(".xlsx").tempfile().unwrap();
        let path = file.path().to_str().unwrap().to_owned();
        let xlsx = cli(
            &url,
            [
                "export",
                "opportunities",
                "--format",
                "xlsx",
                "--output",
                &path,
            ],
        );
        assert!(
            xlsx.status.success(),
            "{}",
            String::from_utf8_lossy(&xlsx.stderr)
        );
        assert!(
            std::fs::read(&path).unwrap().starts_with(b"PK"),
            "an xlsx file is a zip"
        );

        let refused = cli(&url, ["export", "partners", "--view", "partner"]);
        assert!(!refused.status.success());
        assert!(String::from_utf8_lossy(&refused.stderr).contains("--partner"));
    }
);
