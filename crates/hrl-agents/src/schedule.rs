//! Schedules of exploration and learning rate.

/// Linear interpolation from `start` to `end` over `duration` units of time, then constant at
/// `end` (cleanrl's `linear_schedule`, optax's `linear_schedule`).
pub fn linear(start: f64, end: f64, duration: f64, time: f64) -> f64 {
    if duration <= 0.0 || time >= duration {
        return end;
    }
    start + (end - start) * (time.max(0.0) / duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolates_then_holds() {
        assert_eq!(linear(1.0, 0.01, 100.0, 0.0), 1.0);
        assert!((linear(1.0, 0.01, 100.0, 50.0) - 0.505).abs() < 1e-12);
        assert_eq!(linear(1.0, 0.01, 100.0, 100.0), 0.01);
        assert_eq!(linear(1.0, 0.01, 100.0, 1e9), 0.01);
        assert_eq!(linear(1.0, 0.01, 0.0, 0.0), 0.01);
    }
}
