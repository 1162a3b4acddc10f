//! A run's `metrics.csv` (its columns are declared in [`crate::train::columns`]): a fixed header,
//! one row per log point, an empty field where a value
//! does not apply, each row handed to the OS as soon as it is written (so a `kill -9` loses at
//! most the row being written). [`MetricsLog`] writes every row to the CSV and, as scalars, to
//! TensorBoard.
//!
//! Resume contract: the training loop writes the row of step `s` before it saves the checkpoint
//! of step `s`. Resuming from the checkpoint of step `s` keeps the rows with `step <= s`, drops
//! the rest and any half-written last line, and appends from there, so the file has no lost and
//! no duplicated rows.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use hrl_report::run_dir::METRICS_FILE;

use crate::tensorboard::{EventWriter, TensorboardError};

/// The column that orders the rows and that resume truncates on: agent steps.
pub const STEP_COLUMN: &str = crate::train::columns::STEP.name;

/// Errors of the metrics table.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error(
        "metrics columns must be non-empty names without commas or quotes, unique, and include `step`; got {columns:?}"
    )]
    BadColumns { columns: Vec<String> },
    #[error(
        "{path}: header is `{found}` but this run logs `{expected}`; the file belongs to a different configuration"
    )]
    HeaderMismatch {
        path: PathBuf,
        found: String,
        expected: String,
    },
    #[error("{path}: line {line}: {problem}")]
    BadRow {
        path: PathBuf,
        line: usize,
        problem: String,
    },
    #[error("metrics row has {got} values but the table has {expected} columns")]
    RowLength { got: usize, expected: usize },
    #[error("metrics row has no column named `{name}` (columns: {columns})")]
    UnknownColumn { name: String, columns: String },
    #[error("metrics row has no `step` value")]
    MissingStep,
    #[error(transparent)]
    Tensorboard(#[from] TensorboardError),
}

/// What resuming did to an existing table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResumeReport {
    /// Complete rows kept (step at most the checkpoint's).
    pub kept_rows: usize,
    /// Complete rows dropped because their step is after the checkpoint's.
    pub dropped_rows: usize,
    /// Whether a half-written last line (no line end) was dropped.
    pub dropped_partial_line: bool,
}

/// Writer of one `metrics.csv`.
pub struct MetricsCsv {
    path: PathBuf,
    file: File,
    columns: Vec<String>,
    step_index: usize,
    line: String,
}

impl MetricsCsv {
    /// Creates (or truncates) `path` and writes the header.
    pub fn create(path: &Path, columns: &[&str]) -> Result<Self, MetricsError> {
        let (columns, step_index) = check_columns(columns)?;
        let io_err = |source| MetricsError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut file = File::create(path).map_err(io_err)?;
        file.write_all(format!("{}\n", columns.join(",")).as_bytes())
            .map_err(io_err)?;
        Ok(MetricsCsv {
            path: path.to_path_buf(),
            file,
            columns,
            step_index,
            line: String::new(),
        })
    }

    /// Opens an existing table to continue after the checkpoint of `checkpoint_step`: drops a
    /// half-written last line and every row from the first one whose step is greater than
    /// `checkpoint_step`, then appends after the rows kept. The header must equal `columns`.
    pub fn resume(
        path: &Path,
        columns: &[&str],
        checkpoint_step: u64,
    ) -> Result<(Self, ResumeReport), MetricsError> {
        let (columns, step_index) = check_columns(columns)?;
        let io_err = |source| MetricsError::Io {
            path: path.to_path_buf(),
            source,
        };
        let bytes = fs::read(path).map_err(io_err)?;
        let header = columns.join(",");
        let complete = bytes
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |last| last + 1);
        let dropped_partial_line = complete < bytes.len();
        let text = std::str::from_utf8(&bytes[..complete]).map_err(|e| MetricsError::BadRow {
            path: path.to_path_buf(),
            line: 1 + bytes[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count(),
            problem: "not UTF-8".to_string(),
        })?;
        let mut lines = text.split_inclusive('\n');
        let mut keep = match lines.next() {
            Some(found) if found.trim_end_matches(['\n', '\r']) == header => found.len(),
            Some(found) => {
                return Err(MetricsError::HeaderMismatch {
                    path: path.to_path_buf(),
                    found: found.trim_end().to_string(),
                    expected: header,
                });
            }
            // Crashed while writing the header: only a prefix of it can be there.
            None if header.as_bytes().starts_with(&bytes) => 0,
            None => {
                return Err(MetricsError::HeaderMismatch {
                    path: path.to_path_buf(),
                    found: String::from_utf8_lossy(&bytes).into_owned(),
                    expected: header,
                });
            }
        };
        let mut kept_rows = 0;
        let mut dropped_rows = 0;
        for (i, line) in lines.enumerate() {
            if dropped_rows > 0 {
                dropped_rows += 1;
                continue;
            }
            let bad = |problem: String| MetricsError::BadRow {
                path: path.to_path_buf(),
                line: i + 2,
                problem,
            };
            let fields: Vec<&str> = line.trim_end_matches(['\n', '\r']).split(',').collect();
            if fields.len() != columns.len() {
                return Err(bad(format!(
                    "{} fields, the header has {}",
                    fields.len(),
                    columns.len()
                )));
            }
            let step: f64 = fields[step_index]
                .parse()
                .map_err(|_| bad(format!("step `{}` is not a number", fields[step_index])))?;
            if step > checkpoint_step as f64 {
                dropped_rows = 1;
            } else {
                kept_rows += 1;
                keep += line.len();
            }
        }
        let mut file = OpenOptions::new().write(true).open(path).map_err(io_err)?;
        if keep == 0 {
            file.set_len(0).map_err(io_err)?;
            file.write_all(format!("{header}\n").as_bytes())
                .map_err(io_err)?;
        } else {
            file.set_len(keep as u64).map_err(io_err)?;
        }
        let mut file = OpenOptions::new().append(true).open(path).map_err(io_err)?;
        file.flush().map_err(io_err)?;
        let report = ResumeReport {
            kept_rows,
            dropped_rows,
            dropped_partial_line,
        };
        Ok((
            MetricsCsv {
                path: path.to_path_buf(),
                file,
                columns,
                step_index,
                line: String::new(),
            },
            report,
        ))
    }

    /// The table's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The header's column names, in order.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Appends one row, `values[i]` for column `i` (`None` writes an empty field). The `step`
    /// value is required. Floats are written in Rust's shortest round-trip form (`1000`, `0.1`,
    /// `NaN`, `inf`).
    pub fn write_row(&mut self, values: &[Option<f64>]) -> Result<(), MetricsError> {
        if values.len() != self.columns.len() {
            return Err(MetricsError::RowLength {
                got: values.len(),
                expected: self.columns.len(),
            });
        }
        if values[self.step_index].is_none() {
            return Err(MetricsError::MissingStep);
        }
        self.line.clear();
        for (i, value) in values.iter().enumerate() {
            if i > 0 {
                self.line.push(',');
            }
            if let Some(v) = value {
                self.line.push_str(&v.to_string());
            }
        }
        self.write_line()
    }

    /// Ends `self.line` and writes it in one call, so a crash leaves at most one partial line
    /// at the end.
    fn write_line(&mut self) -> Result<(), MetricsError> {
        self.line.push('\n');
        self.file
            .write_all(self.line.as_bytes())
            .map_err(|source| MetricsError::Io {
                path: self.path.clone(),
                source,
            })
    }

    /// Appends one row of text fields, one per column (none may hold a comma, a quote or a
    /// line end).
    pub fn write_fields(&mut self, fields: &[&str]) -> Result<(), MetricsError> {
        if fields.len() != self.columns.len() {
            return Err(MetricsError::RowLength {
                got: fields.len(),
                expected: self.columns.len(),
            });
        }
        if fields.iter().any(|f| f.contains([',', '"', '\n', '\r'])) {
            return Err(MetricsError::BadColumns {
                columns: fields.iter().map(|f| f.to_string()).collect(),
            });
        }
        self.line.clear();
        self.line.push_str(&fields.join(","));
        self.write_line()
    }

    /// The positional row of `values` given by column name; columns not named stay empty.
    pub fn row<'a>(
        &self,
        values: impl IntoIterator<Item = (&'a str, f64)>,
    ) -> Result<Vec<Option<f64>>, MetricsError> {
        let mut row = vec![None; self.columns.len()];
        for (name, value) in values {
            let i = self.columns.iter().position(|c| c == name).ok_or_else(|| {
                MetricsError::UnknownColumn {
                    name: name.to_string(),
                    columns: self.columns.join(","),
                }
            })?;
            row[i] = Some(value);
        }
        Ok(row)
    }
}

fn check_columns(columns: &[&str]) -> Result<(Vec<String>, usize), MetricsError> {
    let bad = || MetricsError::BadColumns {
        columns: columns.iter().map(|c| c.to_string()).collect(),
    };
    let valid_name = |c: &&str| !c.is_empty() && !c.contains([',', '"', '\n', '\r']);
    if !columns.iter().all(valid_name) {
        return Err(bad());
    }
    for (i, c) in columns.iter().enumerate() {
        if columns[..i].contains(c) {
            return Err(bad());
        }
    }
    let step_index = columns
        .iter()
        .position(|&c| c == STEP_COLUMN)
        .ok_or_else(bad)?;
    Ok((columns.iter().map(|c| c.to_string()).collect(), step_index))
}

/// `metrics.csv` plus TensorBoard scalars in one run folder: every row goes to both, each value
/// as a scalar tagged with its column name at the row's `step` (the `step` column itself is not
/// repeated as a scalar).
///
/// On resume a new event file is started with a restart marker (`SessionLog START`) at
/// `checkpoint_step + 1`, which tells readers to drop what the old file logged after the
/// checkpoint. Checked with TensorBoard 2.21: `tensorboard --logdir` (its default fast loader) and
/// the Python `EventAccumulator` honour it and show each step once; `--load_fast=false` and
/// tbparse 0.0.9 (which reads each file on its own) show the steps after the checkpoint twice,
/// the old values and the new.
pub struct MetricsLog {
    csv: MetricsCsv,
    events: EventWriter,
}

impl MetricsLog {
    /// Starts `dir/metrics.csv` (truncating any old one) and a new event file in `dir`.
    pub fn create(dir: &Path, columns: &[&str]) -> Result<Self, MetricsError> {
        let csv = MetricsCsv::create(&dir.join(METRICS_FILE), columns)?;
        let events = EventWriter::create(dir)?;
        Ok(MetricsLog { csv, events })
    }

    /// Continues the log of `dir` after the checkpoint of `checkpoint_step`; see
    /// [`MetricsCsv::resume`].
    pub fn resume(
        dir: &Path,
        columns: &[&str],
        checkpoint_step: u64,
    ) -> Result<(Self, ResumeReport), MetricsError> {
        let (csv, report) = MetricsCsv::resume(&dir.join(METRICS_FILE), columns, checkpoint_step)?;
        let mut events = EventWriter::create(dir)?;
        events.add_session_start(checkpoint_step as i64 + 1)?;
        Ok((MetricsLog { csv, events }, report))
    }

    /// The CSV writer (path, columns).
    pub fn csv(&self) -> &MetricsCsv {
        &self.csv
    }

    /// The TensorBoard writer, for text and other summaries.
    pub fn events(&mut self) -> &mut EventWriter {
        &mut self.events
    }

    /// Writes one positional row to the CSV and its present values to TensorBoard.
    pub fn write_row(&mut self, values: &[Option<f64>]) -> Result<(), MetricsError> {
        self.csv.write_row(values)?;
        let step_index = self.csv.step_index;
        let step = values[step_index].unwrap_or_default() as i64;
        let scalars: Vec<(&str, f64)> = self
            .csv
            .columns
            .iter()
            .zip(values)
            .enumerate()
            .filter(|&(i, _)| i != step_index)
            .filter_map(|(_, (name, v))| v.map(|v| (name.as_str(), v)))
            .collect();
        if !scalars.is_empty() {
            self.events.add_scalars(&scalars, step)?;
        }
        Ok(())
    }

    /// Writes a row given by column name; see [`MetricsCsv::row`].
    pub fn write_named<'a>(
        &mut self,
        values: impl IntoIterator<Item = (&'a str, f64)>,
    ) -> Result<(), MetricsError> {
        let row = self.csv.row(values)?;
        self.write_row(&row)
    }

    /// Flushes the TensorBoard events (CSV rows are never buffered).
    pub fn flush(&mut self) -> Result<(), MetricsError> {
        Ok(self.events.flush()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensorboard::read_events;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("hrl-metrics-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    const COLUMNS: [&str; 3] = ["step", "loss", "srank"];

    #[test]
    fn writes_header_rows_and_empty_fields() {
        let dir = temp_dir("write");
        let path = dir.join(METRICS_FILE);
        let mut csv = MetricsCsv::create(&path, &COLUMNS).unwrap();
        csv.write_row(&[Some(1000.0), Some(0.1), None]).unwrap();
        let row = csv.row([("srank", 17.0), ("step", 2000.0)]).unwrap();
        csv.write_row(&row).unwrap();
        // Rows reach the file without a flush or drop.
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "step,loss,srank\n1000,0.1,\n2000,,17\n"
        );
        assert!(matches!(
            csv.row([("lr", 1.0)]),
            Err(MetricsError::UnknownColumn { .. })
        ));
        assert!(matches!(
            csv.write_row(&[None, Some(1.0), None]),
            Err(MetricsError::MissingStep)
        ));
        assert!(matches!(
            csv.write_row(&[Some(1.0)]),
            Err(MetricsError::RowLength {
                got: 1,
                expected: 3
            })
        ));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn rejects_bad_columns() {
        for columns in [
            &["loss"][..],
            &["step", "a,b"],
            &["step", "loss", "loss"],
            &["step", ""],
        ] {
            let err = check_columns(columns).unwrap_err();
            assert!(
                matches!(err, MetricsError::BadColumns { .. }),
                "{columns:?}"
            );
        }
    }

    fn resume_file(contents: &str, checkpoint_step: u64) -> (String, ResumeReport) {
        let dir = temp_dir(&format!("resume-{checkpoint_step}-{}", contents.len()));
        let path = dir.join(METRICS_FILE);
        fs::write(&path, contents).unwrap();
        let (mut csv, report) = MetricsCsv::resume(&path, &COLUMNS, checkpoint_step).unwrap();
        csv.write_row(&[Some(checkpoint_step as f64 + 100.0), Some(9.0), None])
            .unwrap();
        let text = fs::read_to_string(&path).unwrap();
        fs::remove_dir_all(&dir).unwrap();
        (text, report)
    }

    #[test]
    fn resume_drops_rows_after_the_checkpoint_and_a_partial_line() {
        let file = "step,loss,srank\n100,1,\n200,2,5\n300,3,\n400,4,6\n50";
        let (text, report) = resume_file(file, 200);
        assert_eq!(text, "step,loss,srank\n100,1,\n200,2,5\n300,9,\n");
        assert_eq!(
            report,
            ResumeReport {
                kept_rows: 2,
                dropped_rows: 2,
                dropped_partial_line: true
            }
        );
    }

    #[test]
    fn resume_keeps_everything_up_to_the_checkpoint() {
        let (text, report) = resume_file("step,loss,srank\n100,1,\n200,2,5\n", 200);
        assert_eq!(text, "step,loss,srank\n100,1,\n200,2,5\n300,9,\n");
        assert_eq!(report.kept_rows, 2);
        assert_eq!(report.dropped_rows, 0);
        assert!(!report.dropped_partial_line);
    }

    #[test]
    fn resume_repairs_a_file_cut_inside_the_header() {
        let (text, report) = resume_file("step,lo", 0);
        assert_eq!(text, "step,loss,srank\n100,9,\n");
        assert!(report.dropped_partial_line);
        let (text, _) = resume_file("step,loss,srank\n1", 0);
        assert_eq!(text, "step,loss,srank\n100,9,\n");
    }

    #[test]
    fn resume_rejects_other_headers_and_corrupt_rows() {
        let dir = temp_dir("resume-errors");
        let path = dir.join(METRICS_FILE);
        fs::write(&path, "step,loss\n100,1\n").unwrap();
        let err = MetricsCsv::resume(&path, &COLUMNS, 100).err().unwrap();
        assert!(matches!(err, MetricsError::HeaderMismatch { .. }), "{err}");
        fs::write(&path, "step,loss,srank\n100,1,\nabc,2,\n").unwrap();
        let err = MetricsCsv::resume(&path, &COLUMNS, 100).err().unwrap();
        assert!(err.to_string().contains("line 3"), "{err}");
        fs::write(&path, "step,loss,srank\n100,1\n").unwrap();
        let err = MetricsCsv::resume(&path, &COLUMNS, 100).err().unwrap();
        assert!(err.to_string().contains("line 2: 2 fields"), "{err}");
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "step,loss,srank\n100,1\n"
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn log_writes_csv_and_tensorboard_scalars() {
        let dir = temp_dir("log");
        {
            let mut log = MetricsLog::create(&dir, &COLUMNS).unwrap();
            log.write_named([("step", 10.0), ("loss", 0.5)]).unwrap();
            log.write_row(&[Some(20.0), Some(0.25), Some(3.0)]).unwrap();
        }
        assert_eq!(
            fs::read_to_string(dir.join(METRICS_FILE)).unwrap(),
            "step,loss,srank\n10,0.5,\n20,0.25,3\n"
        );
        let event_file = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.to_string_lossy().contains("tfevents"))
            .unwrap();
        let scalars: Vec<(i64, String, f32)> = read_events(&event_file)
            .unwrap()
            .iter()
            .flat_map(|e| {
                let step = e.step;
                e.summary.iter().flat_map(move |s| {
                    s.value
                        .iter()
                        .map(move |v| (step, v.tag.clone(), v.simple_value.unwrap()))
                })
            })
            .collect();
        assert_eq!(
            scalars,
            vec![
                (10, "loss".to_string(), 0.5),
                (20, "loss".to_string(), 0.25),
                (20, "srank".to_string(), 3.0)
            ]
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}

/// A metrics table read back: its columns and complete rows, `None` for empty fields.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    columns: Vec<String>,
    rows: Vec<Vec<Option<f64>>>,
}

impl Table {
    /// Reads the table at `path`; a half-written last line (no newline yet) is left out.
    pub fn read(path: &Path) -> Result<Table, MetricsError> {
        let bad_row = |line: usize, problem: String| MetricsError::BadRow {
            path: path.to_path_buf(),
            line,
            problem,
        };
        let text = fs::read_to_string(path).map_err(|source| MetricsError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let complete = text.rfind('\n').map_or("", |end| &text[..end]);
        let mut lines = complete.lines();
        let columns: Vec<String> = lines
            .next()
            .ok_or_else(|| bad_row(1, "no header".to_string()))?
            .split(',')
            .map(str::to_string)
            .collect();
        let mut rows = Vec::new();
        for (index, line) in lines.enumerate() {
            let fields: Vec<&str> = line.split(',').collect();
            if fields.len() != columns.len() {
                return Err(bad_row(
                    index + 2,
                    format!("{} fields, the header has {}", fields.len(), columns.len()),
                ));
            }
            let row = fields
                .iter()
                .map(|field| match *field {
                    "" => Ok(None),
                    text => text
                        .parse::<f64>()
                        .map(Some)
                        .map_err(|_| bad_row(index + 2, format!("`{text}` is not a number"))),
                })
                .collect::<Result<Vec<_>, _>>()?;
            rows.push(row);
        }
        Ok(Table { columns, rows })
    }

    /// The column names, in order.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The rows, each with one field per column.
    pub fn rows(&self) -> &[Vec<Option<f64>>] {
        &self.rows
    }

    /// The values of column `name`, one per row; `None` if there is no such column.
    pub fn column(&self, name: &str) -> Option<Vec<Option<f64>>> {
        let index = self.columns.iter().position(|c| c == name)?;
        Some(self.rows.iter().map(|row| row[index]).collect())
    }
}
