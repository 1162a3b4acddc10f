//! The checks every algorithm's config makes of its values, each error naming the key and the
//! range it must lie in.

use crate::AgentError;

/// Every count is at least 1.
pub(crate) fn positive_counts<const N: usize>(
    values: [(&'static str, u64); N],
) -> Result<(), AgentError> {
    match values.into_iter().find(|&(_, value)| value == 0) {
        Some((key, _)) => Err(AgentError::config(key, "must be positive")),
        None => Ok(()),
    }
}

/// Every value is in `[0, 1]`.
pub(crate) fn unit_interval<const N: usize>(
    values: [(&'static str, f64); N],
) -> Result<(), AgentError> {
    match values.into_iter().find(|(_, v)| !(0.0..=1.0).contains(v)) {
        Some((key, _)) => Err(AgentError::config(key, "must be in [0, 1]")),
        None => Ok(()),
    }
}

/// Every value is positive and finite (learning rates, epsilons, norms).
pub(crate) fn positive_finite<const N: usize>(
    values: [(&'static str, f64); N],
) -> Result<(), AgentError> {
    match values
        .into_iter()
        .find(|&(_, v)| !(v > 0.0 && v.is_finite()))
    {
        Some((key, _)) => Err(AgentError::config(key, "must be positive and finite")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(result: Result<(), AgentError>) -> &'static str {
        match result {
            Err(AgentError::Config { key, .. }) => key,
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    #[test]
    fn each_check_names_the_first_key_out_of_range() {
        assert_eq!(key(positive_counts([("a", 1), ("b", 0), ("c", 0)])), "b");
        assert!(positive_counts([("a", 1)]).is_ok());
        assert_eq!(
            key(unit_interval([("gamma", 1.0), ("lambda", 1.5)])),
            "lambda"
        );
        assert_eq!(key(unit_interval([("gamma", f64::NAN)])), "gamma");
        assert!(unit_interval([("a", 0.0), ("b", 1.0)]).is_ok());
        assert_eq!(key(positive_finite([("lr", f64::INFINITY)])), "lr");
        assert_eq!(key(positive_finite([("lr", 1e-4), ("eps", 0.0)])), "eps");
    }
}
