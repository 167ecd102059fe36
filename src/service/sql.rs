//! Hand-written aggregate SQL for the metrics (SPEC §4.5), portable between
//! SQLite and PostgreSQL.
//!
//! Every figure is computed by the database (aggregates, GROUP BY, window
//! functions), so memory does not grow with the data. The few expressions
//! the two dialects spell differently (time differences, the month of a
//! time, exact money arithmetic) come from here, and each statement is
//! written once with `?` placeholders, numbered for PostgreSQL.

use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, QueryResult, Statement, Value};

use crate::domain::exchange::Conversion;

/// Runs `sql` (with `?` placeholders) and returns every row.
pub async fn query(
    db: &impl ConnectionTrait,
    sql: &str,
    values: Vec<Value>,
) -> Result<Vec<QueryResult>, DbErr> {
    let backend = db.get_database_backend();
    db.query_all_raw(Statement::from_sql_and_values(
        backend,
        numbered(backend, sql),
        values,
    ))
    .await
}

/// One statement written with `?` placeholders, for `backend`.
pub fn statement(backend: DatabaseBackend, sql: &str, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(backend, numbered(backend, sql), values)
}

/// `?` → `$1`, `$2`, … for PostgreSQL. Our statements hold no `?` in literals.
fn numbered(backend: DatabaseBackend, sql: &str) -> String {
    if backend != DatabaseBackend::Postgres {
        return sql.to_owned();
    }
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// `?, ?, ?` for `n` values (at least one, so `IN (…)` stays valid).
pub fn placeholders(n: usize) -> String {
    vec!["?"; n.max(1)].join(", ")
}

/// The dialect-specific pieces of a statement.
#[derive(Debug, Clone, Copy)]
pub struct Dialect(pub DatabaseBackend);

impl Dialect {
    pub fn of(db: &impl ConnectionTrait) -> Self {
        Self(db.get_database_backend())
    }

    fn postgres(self) -> bool {
        self.0 == DatabaseBackend::Postgres
    }

    /// Days (fractional) from `start` to `end`.
    pub fn days_between(self, start: &str, end: &str) -> String {
        if self.postgres() {
            format!("(EXTRACT(EPOCH FROM ({end} - {start})) / 86400.0)")
        } else {
            format!("(julianday({end}) - julianday({start}))")
        }
    }

    /// `YYYY-MM` of a UTC time.
    pub fn month_of(self, time: &str) -> String {
        if self.postgres() {
            format!("to_char({time} AT TIME ZONE 'UTC', 'YYYY-MM')")
        } else {
            format!("substr({time}, 1, 7)")
        }
    }

    /// A double-precision value (averages, medians).
    pub fn real(self, expr: &str) -> String {
        format!("CAST({expr} AS DOUBLE PRECISION)")
    }

    /// `round_half_away(value × num / den)` in exact arithmetic.
    fn scaled(self, value: &str, num: i64, den: i64) -> String {
        let half = den / 2;
        if self.postgres() {
            // NUMERIC: no overflow, and TRUNC of a positive quotient floors it.
            format!(
                "((CASE WHEN {value} < 0 THEN -1 ELSE 1 END) * TRUNC((ABS(CAST({value} AS NUMERIC)) * {num} + {half}) / {den}))"
            )
        } else {
            // INTEGER division truncates, which is a floor for non-negative values.
            format!("((CASE WHEN {value} < 0 THEN -1 ELSE 1 END) * ((ABS({value}) * {num} + {half}) / {den}))")
        }
    }
}

/// What a set of exchange rates makes of amounts, as SQL.
#[derive(Debug, Clone)]
pub struct Converter {
    pub dialect: Dialect,
    /// The base currency's own conversion (1:1) comes first.
    pub conversions: Vec<Conversion>,
}

impl Converter {
    /// The amount in base minor units, or NULL when the currency has no rate.
    /// With `credit_bps`, the amount × the credit (basis points) is converted.
    pub fn to_base(&self, amount: &str, currency: &str, credit_bps: Option<&str>) -> String {
        let mut sql = format!("(CASE {currency}");
        for c in &self.conversions {
            let (value, den) = match credit_bps {
                Some(credit) => (format!("({amount} * {credit})"), c.denominator * 10_000),
                None => (amount.to_owned(), c.denominator),
            };
            let converted = self.dialect.scaled(&value, c.numerator, den);
            sql.push_str(&format!(" WHEN '{}' THEN {converted}", c.currency));
        }
        sql.push_str(" ELSE NULL END)");
        sql
    }

    /// 1 when the currency has no rate, else 0.
    pub fn unconverted(&self, currency: &str) -> String {
        let known: Vec<String> = self
            .conversions
            .iter()
            .map(|c| format!("'{}'", c.currency))
            .collect();
        format!(
            "(CASE WHEN {currency} IN ({}) THEN 0 ELSE 1 END)",
            known.join(", ")
        )
    }
}

/// A sum as a 64-bit integer (PostgreSQL sums `bigint` as `numeric`).
pub fn int_sum(expr: &str) -> String {
    format!("CAST(SUM({expr}) AS BIGINT)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_for_postgres_only() {
        let sql = "SELECT 1 WHERE a = ? AND b IN (?, ?)";
        assert_eq!(numbered(DatabaseBackend::Sqlite, sql), sql);
        assert_eq!(
            numbered(DatabaseBackend::Postgres, sql),
            "SELECT 1 WHERE a = $1 AND b IN ($2, $3)"
        );
    }
}
