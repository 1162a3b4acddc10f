//! Reading a feature matrix from a comma-separated file: one row per sample, no header.

use std::path::{Path, PathBuf};

/// Errors reading a features file; each names the file and, where it applies, the line.
#[derive(Debug, thiserror::Error)]
pub enum FeaturesCsvError {
    /// The file could not be read.
    #[error("reading features file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A finite number beyond single precision.
    #[error(
        "features file {path}: line {line}, column {column}: `{field}` does not fit single \
         precision (features are f32, as networks produce them: |x| <= 3.4e38)"
    )]
    BeyondF32 {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The field as written.
        field: String,
    },
    /// A field is not a finite number.
    #[error("features file {path}: line {line}, column {column}: `{field}` is not a finite number")]
    NotANumber {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The field text.
        field: String,
    },
    /// A row with a different number of columns than the first.
    #[error("features file {path}: line {line} has {found} columns, the first row has {expected}")]
    Ragged {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// Columns found.
        found: usize,
        /// Columns of the first row.
        expected: usize,
    },
    /// No rows at all.
    #[error("features file {path} has no rows")]
    Empty {
        /// The file.
        path: PathBuf,
    },
}

/// A feature matrix read from a file, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct FeatureTable {
    /// The values, row-major.
    pub values: Vec<f32>,
    /// Number of rows (samples).
    pub rows: usize,
    /// Number of columns (neurons).
    pub cols: usize,
}

/// Reads `path`; blank lines are skipped, fields may be surrounded by spaces.
pub fn read(path: &Path) -> Result<FeatureTable, FeaturesCsvError> {
    let text = std::fs::read_to_string(path).map_err(|source| FeaturesCsvError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&text, path)
}

/// Parses the text of a features file; `path` only names it in errors.
pub fn parse(text: &str, path: &Path) -> Result<FeatureTable, FeaturesCsvError> {
    let mut values = Vec::new();
    let mut rows = 0;
    let mut cols = 0;
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let before = values.len();
        for (column, field) in line.split(',').enumerate() {
            let value = match field.trim().parse::<f32>() {
                Ok(value) if value.is_finite() => value,
                _ => {
                    let finite_f64 = field.trim().parse::<f64>().is_ok_and(f64::is_finite);
                    let (path, line, column, field) =
                        (path.to_path_buf(), index + 1, column + 1, field.to_string());
                    return Err(if finite_f64 {
                        FeaturesCsvError::BeyondF32 {
                            path,
                            line,
                            column,
                            field,
                        }
                    } else {
                        FeaturesCsvError::NotANumber {
                            path,
                            line,
                            column,
                            field,
                        }
                    });
                }
            };
            values.push(value);
        }
        let found = values.len() - before;
        if rows == 0 {
            cols = found;
        } else if found != cols {
            return Err(FeaturesCsvError::Ragged {
                path: path.to_path_buf(),
                line: index + 1,
                found,
                expected: cols,
            });
        }
        rows += 1;
    }
    if rows == 0 {
        return Err(FeaturesCsvError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(FeatureTable { values, rows, cols })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> Result<FeatureTable, FeaturesCsvError> {
        parse(text, Path::new("f.csv"))
    }

    #[test]
    fn a_finite_number_beyond_f32_is_named_as_such() {
        let error = parse_text("1,2\n1e308,4\n").unwrap_err().to_string();
        assert_eq!(
            error,
            "features file f.csv: line 2, column 1: `1e308` does not fit single precision \
             (features are f32, as networks produce them: |x| <= 3.4e38)"
        );
        assert!(
            parse_text("1,inf\n")
                .unwrap_err()
                .to_string()
                .contains("is not a finite number")
        );
        assert_eq!(parse_text("3.4e38\n").unwrap().values, vec![3.4e38]);
    }

    #[test]
    fn reads_rows_and_columns() {
        let table = parse_text("1,2,3\n 4 , 5,6e-1\n\n").unwrap();
        assert_eq!((table.rows, table.cols), (2, 3));
        assert_eq!(table.values, vec![1.0, 2.0, 3.0, 4.0, 5.0, 0.6]);
    }

    #[test]
    fn errors_name_the_line() {
        let err = parse_text("1,2\n3,x\n").unwrap_err().to_string();
        assert_eq!(
            err,
            "features file f.csv: line 2, column 2: `x` is not a finite number"
        );
        let err = parse_text("1,2\n\n3\n").unwrap_err().to_string();
        assert_eq!(
            err,
            "features file f.csv: line 3 has 1 columns, the first row has 2"
        );
        assert!(parse_text("1,nan\n").is_err());
        assert!(parse_text("1,\n").is_err());
        assert!(matches!(
            parse_text("\n \n"),
            Err(FeaturesCsvError::Empty { .. })
        ));
        assert!(matches!(
            read(Path::new("/nonexistent/f.csv")),
            Err(FeaturesCsvError::Io { .. })
        ));
    }
}
