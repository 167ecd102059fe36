//! A sheet of text cells with named columns, written as CSV or as an Excel
//! workbook of one sheet.

use std::io::Write;

/// Named columns, rows of cells in their order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn write_csv(&self, out: impl Write) -> anyhow::Result<()> {
        let mut writer = csv::Writer::from_writer(out);
        writer.write_record(&self.headers)?;
        for row in &self.rows {
            writer.write_record(row)?;
        }
        writer.flush()?;
        Ok(())
    }

    /// One sheet named `sheet`; every cell is text, so ids, dates and
    /// amounts come back exactly as written.
    pub fn xlsx_bytes(&self, sheet: &str) -> anyhow::Result<Vec<u8>> {
        let mut workbook = rust_xlsxwriter::Workbook::new();
        let worksheet = workbook.add_worksheet();
        worksheet.set_name(sheet)?;
        let bold = rust_xlsxwriter::Format::new().set_bold();
        for (column, header) in self.headers.iter().enumerate() {
            worksheet.write_string_with_format(0, cell(column)?, header, &bold)?;
        }
        for (row, cells) in self.rows.iter().enumerate() {
            let row = u32::try_from(row + 1)?;
            for (column, value) in cells.iter().enumerate() {
                worksheet.write_string(row, cell(column)?, value)?;
            }
        }
        Ok(workbook.save_to_buffer()?)
    }
}

fn cell(column: usize) -> anyhow::Result<u16> {
    Ok(u16::try_from(column)?)
}
