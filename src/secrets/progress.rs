//! Progress bars for slow steps (deriving values, passphrase encryption):
//! on stderr, only on a terminal, and only once the step has run for a
//! second.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Whether to show a progress bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// On stderr, if it is a terminal and the work runs over a second.
    Auto,
    /// Never.
    Hidden,
}

/// The progress bar is shown only after this much work.
const SHOW_AFTER: Duration = Duration::from_secs(1);

/// Shows a bar lazily: hidden until [`SHOW_AFTER`] has passed.
pub(crate) struct LazyBar {
    bar: ProgressBar,
    started: Instant,
    shown: AtomicBool,
    mode: Progress,
    lock: Mutex<()>,
}

impl LazyBar {
    pub(crate) fn new(len: usize, mode: Progress, message: &'static str) -> Self {
        let bar = ProgressBar::with_draw_target(
            Some(u64::try_from(len).unwrap_or(u64::MAX)),
            ProgressDrawTarget::hidden(),
        );
        if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({elapsed})")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(message);
        LazyBar {
            bar,
            started: Instant::now(),
            shown: AtomicBool::new(false),
            mode,
            lock: Mutex::new(()),
        }
    }

    pub(crate) fn tick(&self) {
        self.bar.inc(1);
        if self.mode == Progress::Auto
            && !self.shown.load(Ordering::Relaxed)
            && self.started.elapsed() >= SHOW_AFTER
        {
            if let Ok(_guard) = self.lock.lock() {
                if !self.shown.swap(true, Ordering::Relaxed) {
                    self.bar.set_draw_target(ProgressDrawTarget::stderr());
                }
            }
        }
    }

    pub(crate) fn finish(self) {
        self.bar.finish_and_clear();
    }
}
