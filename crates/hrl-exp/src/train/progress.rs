//! Progress of a run: a bar on a terminal, a log line every 5% otherwise.

use std::io::IsTerminal;
use std::time::Instant;

/// A progress bar on a terminal, a log line every 5% otherwise; steps per second count from
/// the step the process started at.
pub(super) struct Progress {
    bar: Option<indicatif::ProgressBar>,
    total: u64,
    start: Instant,
    start_step: u64,
    next_line: std::cell::Cell<u64>,
}

impl Progress {
    pub(super) fn new(total: u64, start_step: u64) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(total);
            bar.set_position(start_step);
            bar.reset_eta();
            let style = indicatif::ProgressStyle::with_template(
                "{bar:30} {pos}/{len} steps  {msg}  eta {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
            bar.set_style(style);
            bar
        });
        Progress {
            bar,
            total,
            start: Instant::now(),
            start_step,
            next_line: std::cell::Cell::new(start_step),
        }
    }

    pub(super) fn update(&self, step: u64, recent_return: f64) {
        let sps = step.saturating_sub(self.start_step) as f64
            / self.start.elapsed().as_secs_f64().max(1e-9);
        match &self.bar {
            Some(bar) => {
                bar.set_position(step);
                bar.set_message(format!("{sps:.0} sps  return {recent_return:.2}"));
            }
            None if step >= self.next_line.get() => {
                tracing::info!(
                    "step {step}/{} ({:.0}%), {sps:.0} sps, recent return {recent_return:.2}",
                    self.total,
                    100.0 * step as f64 / self.total as f64
                );
                self.next_line.set(step + self.total / 20);
            }
            None => {}
        }
    }

    pub(super) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
