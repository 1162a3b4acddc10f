//! A run's final score: the mean return of the last fraction of its training episodes (the
//! protocol of the paper notes, section 4.2; `summary.json`'s `final_return` is the same with a
//! fraction of 0.1).

use super::run_data::EpisodeBatch;

/// How many of `total` episodes the last `fraction` is: `floor(total * fraction)`, at least one.
pub fn tail_count(total: f64, fraction: f64) -> f64 {
    // The small slack keeps e.g. 70 x 0.1 = 7.000000000000001 and 30 x 0.1 from rounding down.
    ((total * fraction + 1e-9).floor()).max(1.0).min(total)
}

/// The mean return of the last `fraction` (in (0, 1]) of the episodes; `None` without episodes.
/// A batch that straddles the cut counts with the part of its episodes that falls inside it.
pub fn final_score(episodes: &[EpisodeBatch], fraction: f64) -> Option<f64> {
    let total: f64 = episodes.iter().map(|e| e.count).sum();
    if total <= 0.0 {
        return None;
    }
    let mut wanted = tail_count(total, fraction);
    let (mut sum, mut taken) = (0.0, 0.0);
    for batch in episodes.iter().rev() {
        if wanted <= 0.0 {
            break;
        }
        let weight = batch.count.min(wanted);
        sum += batch.mean_return * weight;
        taken += weight;
        wanted -= weight;
    }
    Some(sum / taken)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(mean_return: f64, count: f64) -> EpisodeBatch {
        EpisodeBatch {
            step: 0.0,
            mean_return,
            count,
        }
    }

    #[test]
    fn tail_counts_match_summary_json() {
        // train.rs: (returns.len() / 10).max(1).
        for n in 1..500u32 {
            assert_eq!(
                tail_count(f64::from(n), 0.1),
                f64::from((n / 10).max(1)),
                "{n}"
            );
        }
        assert_eq!(tail_count(7.0, 1.0), 7.0);
    }

    #[test]
    fn straddling_batches_count_in_part() {
        // 20 episodes, the last 2: one from the final batch, one of the batch before it.
        let episodes = [batch(0.0, 10.0), batch(4.0, 9.0), batch(10.0, 1.0)];
        assert_eq!(final_score(&episodes, 0.1), Some(7.0));
        assert_eq!(final_score(&episodes, 1.0), Some((36.0 + 10.0) / 20.0));
        assert_eq!(final_score(&[], 0.1), None);
    }
}
