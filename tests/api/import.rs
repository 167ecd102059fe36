//! `partnergraph import`: spreadsheets in through the real binary, on
//! SQLite and PostgreSQL.

use std::path::{Path, PathBuf};

use chrono::Datelike;
use partnergraph::{clock::Clock, service::demo};

use crate::helpers::binary::cli;

fn partnergraph(url: &str, args: &[&str]) -> (bool, String, String) {
    let output = cli(url, args);
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// The spreadsheet: 50 good partner rows under messy headers, two
/// of them the same company (`Acme Inc.` and, further down, a row whose
/// website is `https://www.acme.com/`), and three invalid rows. So 53 rows:
/// the "50 partners" are the good rows, and "creates 49 partners (one
/// merged)" counts the 49 distinct companies among them; the three invalid
/// rows are rejected on top.
fn messy_partners() -> String {
    let mut csv =
        String::from(" Account Name ,partner_type,Web Site URL,TIER,NPS,Margin %,Notes\n");
    csv.push_str("Acme Inc.,Reseller,acme.com,gold,40,\"12,5%\",first\n");
    for i in 1..=24 {
        csv.push_str(&format!(
            "Partner {i} GmbH,reseller,https://p{i}.example.com,Silver,,,\n"
        ));
    }
    csv.push_str("Broken Web,Reseller,htp//nope,,,,\n");
    for i in 25..=36 {
        csv.push_str(&format!(
            "Partner {i},Systems integrator,p{i}.example.com,,10,5,\n"
        ));
    }
    csv.push_str("Bad Type,Vendor,https://bad.example.com,,,,\n");
    csv.push_str("ACME,Reseller,https://www.acme.com/,Platinum,41,,second says more\n");
    for i in 37..=48 {
        csv.push_str(&format!("\"Partner {i}, Ltd\",MSP,,bronze,,,\n"));
    }
    csv.push_str("Too Happy,Referral,,,150,,\n");
    csv
}

backend_test!(
    a_messy_partner_sheet_dry_runs_imports_good_rows_and_imports_again_as_a_no_op,
    |app| {
        let url = app.database_url();
        let dir = tempfile::tempdir().unwrap();
        let file = write(dir.path(), "partners.csv", &messy_partners());
        let file = file.to_str().unwrap();

        // Dry run: the three bad rows and the duplicate named, nothing written.
        let (ok, stdout, stderr) = partnergraph(&url, &["import", "partners", file, "--dry-run"]);
        assert!(!ok, "{stderr}");
        assert!(
            stdout.contains("49 created, 0 updated, 0 unchanged, 1 merged, 3 rejected (dry run"),
            "{stdout}"
        );
        assert!(stderr.contains("row 27, column \"Web Site URL\", value \"htp//nope\": must be an http or https URL"), "{stderr}");
        assert!(
            stderr.contains("row 40, column \"partner_type\", value \"Vendor\": must be one of"),
            "{stderr}"
        );
        assert!(
            stderr.contains("row 54, column \"NPS\", value \"150\": must be between -100 and 100"),
            "{stderr}"
        );
        assert!(
            stderr.contains("row 41: the same partner (by domain acme.com) as row 2: merged"),
            "{stderr}"
        );
        assert_eq!(app.count("partner").await, 0);
        assert_eq!(app.count("audit_entry").await, 0);

        // All or nothing: without --skip-invalid nothing is written.
        let (ok, _, stderr) = partnergraph(&url, &["import", "partners", file]);
        assert!(!ok);
        assert!(stderr.contains("nothing was imported"), "{stderr}");
        assert_eq!(app.count("partner").await, 0);
        assert!(!Path::new(&format!("{file}.rejects.csv")).exists());

        // --skip-invalid: 49 partners, the duplicate merged, the bad rows rejected.
        let (ok, stdout, stderr) =
            partnergraph(&url, &["import", "partners", file, "--skip-invalid"]);
        assert!(ok, "{stderr}");
        assert!(
            stdout.contains("49 created, 0 updated, 0 unchanged, 1 merged, 3 rejected (imported)"),
            "{stdout}"
        );
        assert_eq!(app.count("partner").await, 49);
        // The first row wins; the duplicate fills only what it left empty.
        assert_eq!(
            app.count_where("partner", "name = 'Acme Inc.' AND tier = 'GOLD' AND customer_nps = 40 AND margin_bps = 1250 AND website = 'https://acme.com/' AND internal_notes = 'first'").await,
            1
        );
        assert_eq!(
            app.count_where(
                "partner",
                "name = 'Partner 37, Ltd' AND partner_type = 'MSP'"
            )
            .await,
            1
        );
        assert_eq!(
            app.count_where(
                "audit_entry",
                "actor_kind = 'IMPORT' AND request_id = 'import:partners.csv'"
            )
            .await,
            app.count("audit_entry").await
        );
        assert_eq!(
            app.count_where(
                "outbox_event",
                "event_type = 'partner.created' AND actor_kind = 'IMPORT'"
            )
            .await,
            49
        );
        let rejects: Vec<Vec<String>> = csv::Reader::from_path(format!("{file}.rejects.csv"))
            .unwrap()
            .records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect();
        assert_eq!(rejects.len(), 3);
        assert_eq!(rejects[0][0], "Broken Web");
        assert!(
            rejects[2][7].contains("column \"NPS\", value \"150\""),
            "{rejects:?}"
        );

        // The same import again changes nothing.
        let audits = app.count("audit_entry").await;
        let (ok, stdout, stderr) =
            partnergraph(&url, &["import", "partners", file, "--skip-invalid"]);
        assert!(ok, "{stderr}");
        assert!(
            stdout.contains("0 created, 0 updated, 49 unchanged, 1 merged, 3 rejected"),
            "{stdout}"
        );
        assert_eq!(app.count("audit_entry").await, audits);
        assert_eq!(app.count("partner").await, 49);
    }
);

backend_test!(
    contacts_attach_to_partners_by_name_and_update_in_place,
    |app| {
        let url = app.database_url();
        let dir = tempfile::tempdir().unwrap();
        let partners = write(
        dir.path(),
        "partners.csv",
        "name,type,website,externalIds\nGlobex Corp.,Reseller,globex.com,salesforce:001G\nInitech B.V.,MSP,,\n",
    );
        let (ok, _, stderr) =
            partnergraph(&url, &["import", "partners", partners.to_str().unwrap()]);
        assert!(ok, "{stderr}");
        assert_eq!(
            app.count_where(
                "partner_external_id",
                "system = 'salesforce' AND external_id = '001G'"
            )
            .await,
            1
        );

        let contacts = write(
        dir.path(),
        "people.csv",
        "Company;Full Name;E-mail;Function;Enabled\nGlobex;Ana Lima;Ana@Globex.com;AE;yes\nInitech;Bo Chen;bo@initech.nl;se;no\nNobody Inc;Cy;cy@x.com;AE;yes\nGlobex;Ana L.;ana@globex.com;CS;\n",
    );
        let contacts = contacts.to_str().unwrap();
        let (ok, stdout, stderr) = partnergraph(
            &url,
            &[
                "import",
                "contacts",
                contacts,
                "--skip-invalid",
                "--rejects",
                dir.path().join("bad.csv").to_str().unwrap(),
            ],
        );
        assert!(ok, "{stderr}");
        assert!(
            stdout.contains("2 created, 0 updated, 0 unchanged, 1 merged, 1 rejected"),
            "{stdout}"
        );
        assert!(
            stderr.contains(
                "row 4, column \"Company\", value \"Nobody Inc\": no partner has this name"
            ),
            "{stderr}"
        );
        assert!(
            stderr.contains("row 5: the same contact (ana@globex.com) as row 2"),
            "{stderr}"
        );
        assert!(dir.path().join("bad.csv").exists());
        assert_eq!(
            app.count_where(
                "partner_contact",
                "email = 'ana@globex.com' AND name = 'Ana Lima' AND role = 'AE'"
            )
            .await,
            1
        );
        assert_eq!(
            app.count_where(
                "partner_contact",
                "email = 'bo@initech.nl' AND role = 'SE' AND deactivated_at IS NOT NULL"
            )
            .await,
            1
        );

        // A later file changes a contact in place (found by partner and e-mail).
        let changed = write(
            dir.path(),
            "changed.csv",
            "partner,name,email,role\nGlobex Corp.,Ana Lima-Souza,ana@globex.com,AE\n",
        );
        let (ok, stdout, stderr) =
            partnergraph(&url, &["import", "contacts", changed.to_str().unwrap()]);
        assert!(ok, "{stderr}");
        assert!(
            stdout.contains("0 created, 1 updated, 0 unchanged"),
            "{stdout}"
        );
        assert_eq!(
            app.count_where("partner_contact", "name = 'Ana Lima-Souza'")
                .await,
            1
        );
        assert_eq!(app.count("partner_contact").await, 2);
    }
);

backend_test!(an_export_imports_back_as_no_change, |app| {
    demo::seed(&app.db, app.clock.now()).await.unwrap();
    let url = app.database_url();
    let dir = tempfile::tempdir().unwrap();
    for (kind, table) in [
        ("partners", "partner"),
        ("contacts", "partner_contact"),
        ("certifications", "certification"),
        ("registrations", "deal_registration"),
        ("opportunities", "opportunity"),
    ] {
        for format in ["csv", "xlsx"] {
            let file = dir.path().join(format!("{kind}.{format}"));
            let file = file.to_str().unwrap();
            let (ok, _, stderr) = partnergraph(
                &url,
                &["export", kind, "--format", format, "--output", file],
            );
            assert!(ok, "{stderr}");
            let audits = app.count("audit_entry").await;
            let (ok, stdout, stderr) = partnergraph(&url, &["import", kind, file]);
            assert!(ok, "{kind} {format}: {stderr}");
            let rows = app.count(table).await;
            assert!(
                stdout.contains(&format!(
                    "0 created, 0 updated, {rows} unchanged, 0 merged, 0 rejected"
                )),
                "{kind} {format}: {stdout}"
            );
            assert_eq!(app.count("audit_entry").await, audits, "{kind} {format}");
        }
    }
});

backend_test!(an_excel_workbook_is_read_from_the_named_sheet, |app| {
    let url = app.database_url();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("program.xlsx");
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let notes = workbook.add_worksheet();
    notes.set_name("Read me").unwrap();
    notes.write_string(0, 0, "not partners").unwrap();
    let sheet = workbook.add_worksheet();
    sheet.set_name("Partners").unwrap();
    for (column, header) in ["Company", "Type", "NPS", "Margin"].iter().enumerate() {
        sheet.write_string(0, column as u16, *header).unwrap();
    }
    sheet.write_string(1, 0, "Umbrella S.A.S.").unwrap();
    sheet.write_string(1, 1, "DISTRIBUTOR").unwrap();
    sheet.write_number(1, 2, 35).unwrap();
    sheet.write_number(1, 3, 7.5).unwrap();
    sheet.write_string(2, 0, "Hooli").unwrap();
    sheet.write_string(2, 1, "TECHNOLOGY").unwrap();
    sheet.write_formula(2, 2, "=20+5").unwrap();
    workbook.save(&path).unwrap();
    let path = path.to_str().unwrap();

    let (ok, _, stderr) = partnergraph(&url, &["import", "partners", path, "--sheet", "Partners"]);
    assert!(!ok);
    assert!(
        stderr.contains("row 3, column \"NPS\", value \"=20+5\": is a formula"),
        "{stderr}"
    );
    assert_eq!(app.count("partner").await, 0);

    let (ok, stdout, stderr) = partnergraph(
        &url,
        &[
            "import",
            "partners",
            path,
            "--sheet",
            "partners",
            "--skip-invalid",
        ],
    );
    assert!(ok, "{stderr}");
    assert!(stdout.contains("1 created"), "{stdout}");
    assert_eq!(
        app.count_where(
            "partner",
            "name = 'Umbrella S.A.S.' AND customer_nps = 35 AND margin_bps = 750"
        )
        .await,
        1
    );

    let (ok, _, stderr) = partnergraph(&url, &["import", "partners", path]);
    assert!(!ok);
    assert!(
        stderr.contains("missing the required column `name`"),
        "{stderr}"
    );
    let (ok, _, stderr) = partnergraph(&url, &["import", "partners", path, "--sheet", "Nope"]);
    assert!(!ok);
    assert!(
        stderr.contains("no sheet named `Nope`; the workbook has: Read me, Partners"),
        "{stderr}"
    );
});

backend_test!(bad_files_get_clear_messages_and_write_nothing, |app| {
    let url = app.database_url();
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(PathBuf, &str)> = vec![
        (
            write(dir.path(), "partners.pdf", "%PDF-1.4"),
            "neither CSV nor Excel",
        ),
        (
            write(dir.path(), "partners.csv", "name,Company\nA,B\n"),
            "columns A (\"name\") and B (\"Company\") both hold `name`",
        ),
        (
            write(dir.path(), "nohead.csv", "Website\nhttps://a.com\n"),
            "missing the required column `name`",
        ),
        (write(dir.path(), "empty.csv", ""), "no header row"),
        (
            write(dir.path(), "zip.csv", "PK\u{3}\u{4}rest"),
            "a binary file (an Excel workbook?)",
        ),
        (
            write(dir.path(), "fake.xlsx", "name\nA\n"),
            "not an Excel .xlsx workbook",
        ),
    ];
    for (file, message) in cases {
        let (ok, _, stderr) = partnergraph(&url, &["import", "partners", file.to_str().unwrap()]);
        assert!(!ok, "{}", file.display());
        assert!(stderr.contains(message), "{}: {stderr}", file.display());
    }
    // Latin-1 bytes in a CSV: the row and column are named.
    let latin1 = dir.path().join("latin1.csv");
    std::fs::write(
        &latin1,
        b"name,type\nM\xfcller AG,Reseller\nPlain,Reseller\n",
    )
    .unwrap();
    let (ok, _, stderr) = partnergraph(&url, &["import", "partners", latin1.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        stderr.contains("row 2, column \"name\", value \"M\u{fffd}ller AG\": is not UTF-8 text"),
        "{stderr}"
    );
    let (ok, _, stderr) = partnergraph(
        &url,
        &[
            "import",
            "partners",
            latin1.to_str().unwrap(),
            "--map",
            "x=nope",
        ],
    );
    assert!(!ok);
    assert!(stderr.contains("--map x=nope: no field `nope`"), "{stderr}");
    assert_eq!(app.count("partner").await, 0);
});

backend_test!(opportunities_come_in_with_their_attribution, |app| {
    let url = app.database_url();
    let dir = tempfile::tempdir().unwrap();
    let partners = write(
        dir.path(),
        "partners.csv",
        "name,type\nGlobex,Reseller\nInitech,MSP\n",
    );
    let (ok, _, stderr) = partnergraph(&url, &["import", "partners", partners.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    let next_year = chrono::Utc::now().date_naive().year() + 1;
    let deals = format!(
        "Deal Name,Account,Domain,Deal Size,Currency,Close Date,Sourced By,Influencers,CRM ID\n\
         Big deal,Hooli Inc.,hooli.com,\"$1,200.50\",USD,1 Mar {next_year},Globex,Initech,salesforce:006A\n\
         Euro deal,Umbrella,umbrella.eu,\"1.200,50 EUR\",,{next_year}-03-01,,,\n\
         Bad,Acme,acme.com,lots,usd,03/01/{next_year},Nobody,,\n\
         Big deal,Hooli,https://www.hooli.com/,5,USD,{next_year}-01-01,,,\n"
    );
    let file = write(dir.path(), "deals.csv", &deals);
    let file = file.to_str().unwrap();
    let (ok, _, stderr) = partnergraph(&url, &["import", "opportunities", file, "--dry-run"]);
    assert!(!ok);
    assert!(
        stderr.contains("row 4, column \"Deal Size\", value \"lots\": must be an amount"),
        "{stderr}"
    );
    assert!(
        stderr.contains("row 4, column \"Close Date\", value \"03/01/"),
        "{stderr}"
    );
    assert!(stderr.contains("is ambiguous"), "{stderr}");
    assert!(
        stderr.contains(
            "row 4, column \"Sourced By\", value \"Nobody\": no partner is named `Nobody`"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("row 5: the same opportunity as row 2"),
        "{stderr}"
    );

    let (ok, stdout, stderr) =
        partnergraph(&url, &["import", "opportunities", file, "--skip-invalid"]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("2 created, 0 updated, 0 unchanged, 1 merged, 1 rejected"),
        "{stdout}"
    );
    assert_eq!(app.count_where("opportunity", "name = 'Big deal' AND amount_minor = 120050 AND currency = 'USD' AND source = 'PARTNER_SOURCED'").await, 1);
    assert_eq!(app.count_where("opportunity", "name = 'Euro deal' AND amount_minor = 120050 AND currency = 'EUR' AND source = 'DIRECT'").await, 1);
    assert_eq!(
        app.count_where("opportunity_attribution", "role = 'SOURCED'")
            .await,
        1
    );
    assert_eq!(
        app.count_where("opportunity_attribution", "role = 'INFLUENCED'")
            .await,
        1
    );
    assert_eq!(
        app.count_where("opportunity_external_id", "external_id = '006A'")
            .await,
        1
    );
    assert_eq!(
        app.count_where(
            "outbox_event",
            "event_type = 'opportunity.created' AND actor_kind = 'IMPORT'"
        )
        .await,
        2
    );

    let (ok, stdout, stderr) =
        partnergraph(&url, &["import", "opportunities", file, "--skip-invalid"]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("0 created, 0 updated, 2 unchanged, 1 merged, 1 rejected"),
        "{stdout}"
    );
});

fn days_from_today(days: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(days))
        .format("%Y-%m-%d")
        .to_string()
}

backend_test!(
    certifications_award_or_enrol_contacts_by_partner_and_email,
    |app| {
        let url = app.database_url();
        let dir = tempfile::tempdir().unwrap();
        let globex = app.partner("Globex").await;
        let ana = app.contact(&globex, "ana@globex.example").await;
        app.contact(&globex, "bo@globex.example").await;
        app.track("SALES-101", "SALES").await;
        app.track("TECH-1", "TECHNICAL").await;

        let month_ago = days_from_today(-30);
        let tomorrow = days_from_today(1);
        let sheet = format!(
            "Partner,E-mail,Track Code,Date Earned\n\
             Globex,ana@globex.example,sales-101,{month_ago}\n\
             Globex,bo@globex.example,TECH-1,\n\
             Globex,cy@globex.example,SALES-101,{month_ago}\n\
             Globex,bo@globex.example,NOPE,\n\
             globex,ANA@globex.example,SALES-101,\n\
             Globex,bo@globex.example,TECH-1,{tomorrow}\n"
        );
        let file = write(dir.path(), "certs.csv", &sheet);
        let file = file.to_str().unwrap();
        let (ok, stdout, stderr) =
            partnergraph(&url, &["import", "certifications", file, "--dry-run"]);
        assert!(!ok, "{stdout}");
        for expected in [
            "row 4, column \"E-mail\", value \"cy@globex.example\": the partner has no contact with this e-mail".to_owned(),
            "row 5, column \"Track Code\", value \"NOPE\": no certification track has this code".to_owned(),
            format!("row 7, column \"Date Earned\", value \"{tomorrow}\": must not be in the future"),
            "row 6: the same certification (contact and track) as row 2".to_owned(),
        ] {
            assert!(stderr.contains(&expected), "{expected}\n{stderr}");
        }
        assert_eq!(app.count("certification").await, 0);

        let (ok, stdout, stderr) =
            partnergraph(&url, &["import", "certifications", file, "--skip-invalid"]);
        assert!(ok, "{stderr}");
        assert!(
            stdout.contains("2 created, 0 updated, 0 unchanged, 1 merged, 3 rejected"),
            "{stdout}"
        );
        assert_eq!(
            app.count_where(
                "certification",
                "status = 'ACTIVE' AND expires_at IS NOT NULL"
            )
            .await,
            1
        );
        assert_eq!(
            app.count_where("certification", "status = 'IN_PROGRESS'")
                .await,
            1
        );
        assert_eq!(
            app.count_where(
                "outbox_event",
                "event_type = 'certification.status_changed' AND actor_kind = 'IMPORT'"
            )
            .await,
            2
        );

        // Again: nothing changes.
        let (ok, stdout, stderr) =
            partnergraph(&url, &["import", "certifications", file, "--skip-invalid"]);
        assert!(ok, "{stderr}");
        assert!(
            stdout.contains("0 created, 0 updated, 2 unchanged, 1 merged, 3 rejected"),
            "{stdout}"
        );

        // A later earned date, the contact by its id: renewed in place.
        let renewed = write(
            dir.path(),
            "renewed.csv",
            &format!(
                "contact,track,earnedAt\n{ana},SALES-101,{}\n",
                days_from_today(-2)
            ),
        );
        let (ok, stdout, stderr) = partnergraph(
            &url,
            &["import", "certifications", renewed.to_str().unwrap()],
        );
        assert!(ok, "{stderr}");
        assert!(
            stdout.contains("0 created, 1 updated, 0 unchanged"),
            "{stdout}"
        );
        assert_eq!(app.count("certification").await, 2);
    }
);

backend_test!(
    registrations_are_submitted_with_conflicts_and_deduped_by_active_claim,
    |app| {
        let url = app.database_url();
        let dir = tempfile::tempdir().unwrap();
        let partners = write(
            dir.path(),
            "partners.csv",
            "name,type,website,externalIds\nGlobex,Referral,globex.com,salesforce:001G\nInitech,Referral,initech.example,\nVandelay,Reseller,,\n",
        );
        let (ok, _, stderr) =
            partnergraph(&url, &["import", "partners", partners.to_str().unwrap()]);
        assert!(ok, "{stderr}");

        let close = days_from_today(60);
        let sheet = format!(
            "Partner,Account,Domain,Contact Name,Contact Email,Amount,Currency,Close Date,Notes\n\
             salesforce:001G,Hooli Inc.,hooli.com,Gavin,gavin@hooli.com,\"$12,000\",USD,{close},first\n\
             initech.example,Hooli,https://www.hooli.com/,Gavin,gavin@hooli.com,9000,EUR,{close},\n\
             Globex,HOOLI,hooli.com,Gavin B.,gavin@hooli.com,13000,USD,{close},second\n\
             Nobody,Umbrella,umbrella.example,Al,al@umbrella.example,5,USD,{close},\n\
             Globex,Umbrella,umbrella.example,Al,al@umbrella.example,5,USD,2020-01-01,\n\
             Vandelay,Umbrella,umbrella.example,Al,al@umbrella.example,5,USD,{close},\n"
        );
        let file = write(dir.path(), "deals.csv", &sheet);
        let file = file.to_str().unwrap();
        let (ok, stdout, stderr) =
            partnergraph(&url, &["import", "registrations", file, "--dry-run"]);
        assert!(!ok, "{stdout}");
        for expected in [
            "row 5, column \"Partner\", value \"Nobody\": no partner has this name",
            "row 6, column \"Close Date\", value \"2020-01-01\": must not be in the past",
            "row 7, the partner needs a contact with an active SALES certification",
            "row 4: the same registration (partner and account) as row 2",
        ] {
            assert!(stderr.contains(expected), "{expected}\n{stderr}");
        }
        assert_eq!(app.count("deal_registration").await, 0);

        let (ok, stdout, stderr) =
            partnergraph(&url, &["import", "registrations", file, "--skip-invalid"]);
        assert!(ok, "{stderr}");
        assert!(
            stdout.contains("2 created, 0 updated, 0 unchanged, 1 merged, 3 rejected"),
            "{stdout}"
        );
        assert_eq!(
            app.count_where(
                "deal_registration",
                "status = 'SUBMITTED' AND amount_minor = 1200000 AND notes = 'first'"
            )
            .await,
            1
        );
        assert_eq!(
            app.count_where("deal_registration", "status = 'UNDER_REVIEW'")
                .await,
            1
        );
        assert_eq!(
            app.count_where(
                "outbox_event",
                "event_type = 'deal_registration.conflict_detected' AND actor_kind = 'IMPORT'"
            )
            .await,
            1
        );

        let (ok, stdout, stderr) =
            partnergraph(&url, &["import", "registrations", file, "--skip-invalid"]);
        assert!(ok, "{stderr}");
        assert!(
            stdout.contains("0 created, 0 updated, 2 unchanged, 1 merged, 3 rejected"),
            "{stdout}"
        );

        // New terms for the same claim (found by partner and domain).
        let changed = write(
            dir.path(),
            "changed.csv",
            &format!(
                "partner,companyName,companyDomain,customerContactName,customerContactEmail,estimatedAmount,expectedCloseDate\n\
                 Globex,Hooli,hooli.com,Gavin Belson,gavin@hooli.com,USD 15000,{close}\n"
            ),
        );
        let (ok, stdout, stderr) = partnergraph(
            &url,
            &["import", "registrations", changed.to_str().unwrap()],
        );
        assert!(ok, "{stderr}");
        assert!(
            stdout.contains("0 created, 1 updated, 0 unchanged"),
            "{stdout}"
        );
        assert_eq!(
            app.count_where(
                "deal_registration",
                "amount_minor = 1500000 AND customer_contact_name = 'Gavin Belson'"
            )
            .await,
            1
        );
        assert_eq!(app.count("deal_registration").await, 2);
    }
);
