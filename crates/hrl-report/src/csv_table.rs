//! A numeric CSV table read by its header names (`metrics.csv`, `episodes.csv`): columns may
//! come in any order and new ones may appear; an empty field is a missing value.

use std::path::{Path, PathBuf};

use super::ReportError;

/// One data row: its 1-based line in the file and a value (or none) per column.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvRow {
    /// 1-based line number in the file.
    pub line: usize,
    values: Vec<Option<f64>>,
}

impl CsvRow {
    /// The value in column `index`; `None` where the field is empty.
    pub fn get(&self, index: usize) -> Option<f64> {
        self.values[index]
    }
}

/// A parsed table.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvTable {
    path: PathBuf,
    header: Vec<String>,
    rows: Vec<CsvRow>,
}

impl CsvTable {
    /// Reads `path`. With `partial_last_line`, a last line without a line end (a writer still
    /// at work) is dropped and an empty file is an empty table; otherwise both are parsed as
    /// they are.
    pub fn read(path: &Path, partial_last_line: bool) -> Result<CsvTable, ReportError> {
        let text = std::fs::read_to_string(path).map_err(ReportError::io(path))?;
        CsvTable::parse(&text, path, partial_last_line)
    }

    /// Parses `text` as the contents of `path` (see [`CsvTable::read`]).
    pub fn parse(
        text: &str,
        path: &Path,
        partial_last_line: bool,
    ) -> Result<CsvTable, ReportError> {
        let error = |line: usize, message: String| ReportError::Table {
            path: path.to_path_buf(),
            line,
            message,
        };
        let complete = if partial_last_line && !text.ends_with('\n') {
            text.rfind('\n').map_or("", |end| &text[..=end])
        } else {
            text
        };
        let mut lines = complete.lines();
        let header: Vec<String> = match lines.next() {
            Some(header) => header.split(',').map(|c| c.trim().to_string()).collect(),
            None if partial_last_line => Vec::new(),
            None => return Err(error(1, "empty file; expected a header line".into())),
        };
        let mut rows = Vec::new();
        for (index, line) in lines.enumerate() {
            let number = index + 2;
            if line.trim().is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.split(',').collect();
            if fields.len() != header.len() {
                return Err(error(
                    number,
                    format!(
                        "{} fields, but the header has {} columns",
                        fields.len(),
                        header.len()
                    ),
                ));
            }
            let values = fields
                .iter()
                .zip(&header)
                .map(|(field, column)| {
                    let field = field.trim();
                    if field.is_empty() {
                        return Ok(None);
                    }
                    field.parse::<f64>().map(Some).map_err(|_| {
                        error(
                            number,
                            format!("column `{column}`: `{field}` is not a number"),
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            rows.push(CsvRow {
                line: number,
                values,
            });
        }
        Ok(CsvTable {
            path: path.to_path_buf(),
            header,
            rows,
        })
    }

    /// The index of column `name`, if the table has it.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|c| c == name)
    }

    /// The index of column `name`; an error naming the file and the columns it has otherwise.
    pub fn require(&self, name: &str) -> Result<usize, ReportError> {
        self.column(name).ok_or_else(|| ReportError::Table {
            path: self.path.clone(),
            line: 1,
            message: format!(
                "no column `{name}` in the header (columns: {})",
                self.header.join(", ")
            ),
        })
    }

    /// The data rows, in file order.
    pub fn rows(&self) -> &[CsvRow] {
        &self.rows
    }

    /// The file the table came from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the table has no header (an empty file read with `partial_last_line`).
    pub fn is_empty(&self) -> bool {
        self.header.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, partial: bool) -> Result<CsvTable, ReportError> {
        CsvTable::parse(text, Path::new("m.csv"), partial)
    }

    #[test]
    fn reads_by_header_name_with_empty_fields() {
        let table = parse("episodes,step,loss\n3,100,\n5,200,0.5\n", false).unwrap();
        let step = table.require("step").unwrap();
        let loss = table.require("loss").unwrap();
        assert_eq!(table.rows().len(), 2);
        assert_eq!(table.rows()[1].get(step), Some(200.0));
        assert_eq!(table.rows()[0].get(loss), None);
        assert_eq!(table.rows()[1].line, 3);
        assert_eq!(table.column("srank"), None);
        let err = table.require("srank").unwrap_err().to_string();
        assert!(
            err.contains("m.csv: line 1") && err.contains("episodes, step, loss"),
            "{err}"
        );
    }

    #[test]
    fn drops_a_half_written_last_line_only_when_asked() {
        let text = "step,episodic_return\n1,2\n2,3";
        assert_eq!(parse(text, true).unwrap().rows().len(), 1);
        assert_eq!(parse(text, false).unwrap().rows().len(), 2);
        assert!(parse("", true).unwrap().is_empty());
        assert!(parse("", false).is_err());
    }

    #[test]
    fn bad_rows_name_the_line_and_column() {
        let err = parse("step,loss\n1,0.5\n2,abc\n", false)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 3") && err.contains("`loss`") && err.contains("abc"),
            "{err}"
        );
        let err = parse("step,loss\n1\n", false).unwrap_err().to_string();
        assert!(err.contains("line 2") && err.contains("1 fields"), "{err}");
    }
}
