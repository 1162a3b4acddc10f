//! Recording an environment's observations as an animated GIF: MinAtar grids in one colour per
//! channel, the newest Atari frame in grayscale, each cell or pixel scaled up.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

/// Errors of a recording.
#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    /// The environment has no picture to record.
    #[error("{env} has no screen to record (only minatar/* and atari/* do)")]
    NoScreen {
        /// The environment id.
        env: String,
    },
    /// The GIF could not be written.
    #[error("writing {path}: {message}")]
    Write {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

/// How observations become pictures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Style {
    /// `[C, 10, 10]` 0/1 channels: the colour of the last channel set, black where none is.
    Channels,
    /// `[stack, H, W]` grayscale frames: the newest one.
    Grayscale,
}

/// Frames of one environment's observations, kept in memory until [`Recorder::save`].
pub struct Recorder {
    style: Style,
    channels: usize,
    height: usize,
    width: usize,
    scale: usize,
    frames: Vec<Vec<u8>>,
}

/// Colours of MinAtar's channels (index 0 is the background).
const CHANNEL_COLOURS: [[u8; 3]; 11] = [
    [0, 0, 0],
    [230, 25, 75],
    [60, 180, 75],
    [255, 225, 25],
    [0, 130, 200],
    [245, 130, 48],
    [145, 30, 180],
    [70, 240, 240],
    [240, 50, 230],
    [210, 245, 60],
    [250, 190, 190],
];

impl Recorder {
    /// A recorder for the observations of `env` (shape `obs_shape`, `[C, H, W]`).
    pub fn new(env: &str, obs_shape: &[usize]) -> Result<Recorder, RecordingError> {
        let no_screen = || RecordingError::NoScreen {
            env: env.to_string(),
        };
        let (style, scale) = if env.starts_with("minatar/") {
            (Style::Channels, 20)
        } else if hrl_env::atari_game(env).is_some() {
            (Style::Grayscale, 3)
        } else {
            return Err(no_screen());
        };
        let &[channels, height, width] = obs_shape else {
            return Err(no_screen());
        };
        Ok(Recorder {
            style,
            channels,
            height,
            width,
            scale,
            frames: Vec::new(),
        })
    }

    /// Adds the picture of one observation (`[C, H, W]`, row-major).
    pub fn push(&mut self, observation: &[f32]) {
        let (h, w, s) = (self.height, self.width, self.scale);
        let plane = h * w;
        let mut pixels = vec![0u8; plane * s * s];
        for y in 0..h * s {
            for x in 0..w * s {
                let cell = (y / s) * w + x / s;
                pixels[y * w * s + x] = match self.style {
                    Style::Channels => (0..self.channels.min(CHANNEL_COLOURS.len() - 1))
                        .rev()
                        .find(|&c| observation[c * plane + cell] > 0.5)
                        .map_or(0, |c| c as u8 + 1),
                    Style::Grayscale => {
                        let newest = (self.channels - 1) * plane;
                        observation[newest + cell].clamp(0.0, 255.0) as u8
                    }
                };
            }
        }
        self.frames.push(pixels);
    }

    /// Frames recorded so far.
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// Writes the frames as a looping GIF at `frames_per_second`, atomically.
    pub fn save(&self, path: &Path, frames_per_second: u16) -> Result<(), RecordingError> {
        let error = |message: String| RecordingError::Write {
            path: path.to_path_buf(),
            message,
        };
        let palette: Vec<u8> = match self.style {
            Style::Channels => CHANNEL_COLOURS.iter().flatten().copied().collect(),
            Style::Grayscale => (0..=255u8).flat_map(|v| [v, v, v]).collect(),
        };
        let (width, height) = (self.width * self.scale, self.height * self.scale);
        let (width, height) = (
            u16::try_from(width).map_err(|_| error("picture too wide".into()))?,
            u16::try_from(height).map_err(|_| error("picture too tall".into()))?,
        );
        let temp = hrl_report::atomic::temp_path(path);
        {
            let file = File::create(&temp).map_err(|e| error(e.to_string()))?;
            let mut encoder = gif::Encoder::new(BufWriter::new(file), width, height, &palette)
                .map_err(|e| error(e.to_string()))?;
            encoder
                .set_repeat(gif::Repeat::Infinite)
                .map_err(|e| error(e.to_string()))?;
            let delay = 100 / frames_per_second.max(1);
            for pixels in &self.frames {
                let mut frame =
                    gif::Frame::from_indexed_pixels(width, height, pixels.clone(), None);
                frame.delay = delay;
                encoder
                    .write_frame(&frame)
                    .map_err(|e| error(e.to_string()))?;
            }
        }
        std::fs::rename(&temp, path).map_err(|e| error(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minatar_cells_take_the_colour_of_their_channel() {
        let mut recorder = Recorder::new("minatar/breakout", &[2, 10, 10]).unwrap();
        let mut obs = vec![0.0f32; 200];
        obs[3] = 1.0; // channel 0, row 0, column 3
        obs[100 + 12] = 1.0; // channel 1, row 1, column 2
        recorder.push(&obs);
        let frame = &recorder.frames[0];
        let at = |row: usize, col: usize| frame[(row * 20 + 5) * 200 + col * 20 + 5];
        assert_eq!((at(0, 3), at(1, 2), at(5, 5)), (1, 2, 0));
        assert!(matches!(
            Recorder::new("cartpole", &[4]),
            Err(RecordingError::NoScreen { .. })
        ));
    }

    #[test]
    fn a_gif_is_written_and_starts_with_its_signature() {
        let mut recorder = Recorder::new("atari/pong", &[4, 84, 84]).unwrap();
        recorder.push(&vec![128.0; 4 * 84 * 84]);
        recorder.push(&vec![10.0; 4 * 84 * 84]);
        let path = std::env::temp_dir().join(format!("hrl-rec-{}.gif", std::process::id()));
        recorder.save(&path, 30).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[..6], b"GIF89a");
        let mut decoder = gif::DecodeOptions::new()
            .read_info(bytes.as_slice())
            .unwrap();
        let mut frames = 0;
        while let Some(frame) = decoder.read_next_frame().unwrap() {
            assert_eq!((frame.width, frame.height), (252, 252));
            frames += 1;
        }
        assert_eq!(frames, 2);
        let _ = std::fs::remove_file(&path);
    }
}
