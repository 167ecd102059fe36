//! Certification vocabulary and rules (SPEC §4.4).

use chrono::{DateTime, Months, Utc};
pub use entity::enums::{CertificationKind, CertificationLevel, CertificationStatus};

/// When a certification earned at `earned_at` on a track valid for
/// `validity_months` expires.
pub fn expires_at(earned_at: DateTime<Utc>, validity_months: i32) -> Option<DateTime<Utc>> {
    let months = u32::try_from(validity_months).ok().filter(|m| *m > 0)?;
    earned_at.checked_add_months(Months::new(months))
}

/// Whether a partner's active certifications meet the program's requirement
/// for `CERTIFICATION_COMPLETE`: distinct contacts with an active `SALES` and
/// with an active `TECHNICAL` certification.
pub fn certification_complete(
    sales_contacts: usize,
    technical_contacts: usize,
    required_sales: i32,
    required_technical: i32,
) -> bool {
    let enough =
        |have: usize, need: i32| i64::try_from(have).unwrap_or(i64::MAX) >= i64::from(need);
    enough(sales_contacts, required_sales) && enough(technical_contacts, required_technical)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn validity_is_counted_in_calendar_months() {
        let earned = Utc.with_ymd_and_hms(2026, 1, 31, 12, 0, 0).single();
        let earned = earned.unwrap_or_default();
        assert_eq!(
            expires_at(earned, 12),
            Utc.with_ymd_and_hms(2027, 1, 31, 12, 0, 0).single()
        );
        assert_eq!(
            expires_at(earned, 1),
            Utc.with_ymd_and_hms(2026, 2, 28, 12, 0, 0).single()
        );
        assert_eq!(expires_at(earned, 0), None);
        assert_eq!(expires_at(earned, -3), None);
    }

    #[test]
    fn completion_needs_every_threshold() {
        // (sales, technical, required sales, required technical, complete)
        let cases = [
            (2, 1, 2, 1, true),
            (1, 1, 2, 1, false),
            (2, 0, 2, 1, false),
            (3, 2, 2, 1, true),
            (0, 0, 0, 0, true),
        ];
        for (sales, technical, need_sales, need_technical, complete) in cases {
            assert_eq!(
                certification_complete(sales, technical, need_sales, need_technical),
                complete
            );
        }
    }
}
