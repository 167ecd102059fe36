//! Progress while importing: a spinner with the row count on a terminal,
//! otherwise a plain line every 10,000 rows (logs and CI stay readable).

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

pub struct Progress {
    bar: Option<ProgressBar>,
    rows: usize,
    quiet: bool,
}

const EVERY: usize = 10_000;

impl Progress {
    /// A bar when stderr is a terminal; `quiet` shows nothing at all.
    pub fn new(quiet: bool) -> Self {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new_spinner();
            if let Ok(style) =
                ProgressStyle::with_template("{spinner} {pos} rows read ({per_sec}, {elapsed})")
            {
                bar.set_style(style);
            }
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        });
        Self {
            bar,
            rows: 0,
            quiet,
        }
    }

    /// One more row done (`number`: the spreadsheet's row number).
    pub fn row(&mut self, number: usize) {
        self.rows += 1;
        match &self.bar {
            Some(bar) => bar.set_position(self.rows as u64),
            None if !self.quiet && self.rows.is_multiple_of(EVERY) => {
                eprintln!("{} rows read (up to row {number})", self.rows)
            }
            None => {}
        }
    }

    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
