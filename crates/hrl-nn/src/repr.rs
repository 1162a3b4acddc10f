//! Representation specs: which activation, whether a Hadamard product, LayerNorm and width.
//!
//! A spec is written as a short string, used the same way on the command line, in configs and in
//! run names:
//!
//! ```text
//! spec   := body ["+ln"] ["@" width]
//! body   := ACT                  one layer:              act(W x + b)
//!         | "hr-" ACT            Hadamard product:       act(W1 x + b1) ⊙ act(W2 x + b2)
//!         | "hr-" ACT "*" ACT    mixed Hadamard product: act1(W1 x + b1) ⊙ act2(W2 x + b2)
//! width  := INTEGER | "matched"
//! ACT    := relu | tanh | sigmoid | gelu | identity | crelu
//! ```
//!
//! `+ln` puts a LayerNorm before each activation (one per branch for a Hadamard layer). `@WIDTH`
//! sets the layer width; `@matched` (single-branch specs only) picks the width whose parameter
//! count matches the Hadamard network of the same activation at the default width.
//!
//! `crelu` (concatenated ReLU, Shang et al. 2016) emits `relu(z)` and `relu(-z)` side by side, so a
//! layer of `n` units has `2n` outputs and the next layer (or head) twice the inputs; `n` is the
//! width (`crelu@64` has 128 outputs). `crelu@matched` counts those wider inputs of the next layer
//! like every other parameter, against `hr-crelu` at the default width. A Hadamard product needs
//! both branches of one output width, so `crelu` pairs only with itself (`hr-crelu`).
//!
//! ```
//! use hrl_nn::repr::{Activation, ReprSpec};
//! let spec: ReprSpec = "hr-tanh+ln".parse().unwrap();
//! assert!(spec.is_hadamard());
//! assert_eq!(spec.branches.first(), Activation::Tanh);
//! assert_eq!(spec.to_string(), "hr-tanh+ln");
//! ```

use std::fmt;
use std::str::FromStr;

/// The valid forms of a spec, shown in every parse error.
pub const VALID_FORMS: &str = "valid forms: ACT, hr-ACT, hr-ACT1*ACT2, each optionally followed \
by +ln and then @WIDTH or @matched, with ACT one of relu, tanh, sigmoid, gelu, identity, crelu \
(crelu pairs only with itself in a Hadamard product; examples: tanh, relu@1024, tanh@matched, \
hr-tanh, hr-tanh+ln, hr-tanh*gelu, crelu)";

/// An element-wise activation function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Activation {
    /// `max(x, 0)`.
    Relu,
    /// `tanh(x)`, in (-1, 1).
    Tanh,
    /// `1 / (1 + exp(-x))`, in (0, 1).
    Sigmoid,
    /// `x Φ(x)` (exact, erf form).
    Gelu,
    /// `x`.
    Identity,
    /// `[max(x, 0), max(-x, 0)]`, concatenated: twice as many outputs as units.
    Crelu,
}

impl Activation {
    /// All activations, in the order they are listed to users.
    pub const ALL: [Activation; 6] = [
        Activation::Relu,
        Activation::Tanh,
        Activation::Sigmoid,
        Activation::Gelu,
        Activation::Identity,
        Activation::Crelu,
    ];

    /// The name used in specs.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::Tanh => "tanh",
            Activation::Sigmoid => "sigmoid",
            Activation::Gelu => "gelu",
            Activation::Identity => "identity",
            Activation::Crelu => "crelu",
        }
    }

    /// Outputs per unit: 2 for CReLU, 1 for the element-wise activations.
    pub fn outputs_per_unit(self) -> usize {
        match self {
            Activation::Crelu => 2,
            _ => 1,
        }
    }

    fn from_name(name: &str) -> Option<Activation> {
        Activation::ALL.into_iter().find(|a| a.name() == name)
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One activated branch, or the Hadamard product of two independently parameterised branches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Branches {
    /// `act(W x + b)`.
    Single(Activation),
    /// `first(W1 x + b1) ⊙ second(W2 x + b2)`.
    Hadamard(Activation, Activation),
}

impl Branches {
    /// The activation of the first (or only) branch.
    pub fn first(self) -> Activation {
        match self {
            Branches::Single(a) | Branches::Hadamard(a, _) => a,
        }
    }

    /// The activation of the second branch, if there is one.
    pub fn second(self) -> Option<Activation> {
        match self {
            Branches::Single(_) => None,
            Branches::Hadamard(_, b) => Some(b),
        }
    }

    /// Outputs per unit of the layer (both branches have the same: the parser rejects others).
    pub fn outputs_per_unit(self) -> usize {
        self.first().outputs_per_unit()
    }
}

/// The width of the representation layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Width {
    /// The torso's default width (512 for the Nature CNN, 128 for MinAtar).
    Default,
    /// A fixed number of units.
    Fixed(usize),
    /// The width whose parameter count matches the Hadamard network at the default width.
    Matched,
}

/// A parsed representation spec; see the [module docs](self) for the grammar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReprSpec {
    /// One branch or a Hadamard product of two.
    pub branches: Branches,
    /// LayerNorm before each activation (per branch).
    pub layer_norm: bool,
    /// Layer width.
    pub width: Width,
}

impl ReprSpec {
    /// A single-branch spec at the default width without LayerNorm.
    pub fn single(activation: Activation) -> ReprSpec {
        ReprSpec {
            branches: Branches::Single(activation),
            layer_norm: false,
            width: Width::Default,
        }
    }

    /// Whether this spec is a Hadamard product.
    pub fn is_hadamard(&self) -> bool {
        matches!(self.branches, Branches::Hadamard(..))
    }

    /// The Hadamard spec a `@matched` spec is matched against: the same activation in both
    /// branches, the same LayerNorm setting, the default width.
    pub fn hadamard_counterpart(&self) -> ReprSpec {
        let act = self.branches.first();
        ReprSpec {
            branches: Branches::Hadamard(act, act),
            layer_norm: self.layer_norm,
            width: Width::Default,
        }
    }
}

impl Default for ReprSpec {
    fn default() -> Self {
        ReprSpec::single(Activation::Relu)
    }
}

/// Why a spec string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// An activation name that is not one of the valid ones.
    #[error("representation spec `{spec}`: unknown activation `{name}`; {VALID_FORMS}")]
    UnknownActivation {
        /// The whole spec.
        spec: String,
        /// The offending name.
        name: String,
    },
    /// A width that is neither a positive integer nor `matched`.
    #[error(
        "representation spec `{spec}`: width `{width}` is not a positive integer or `matched`; {VALID_FORMS}"
    )]
    BadWidth {
        /// The whole spec.
        spec: String,
        /// The offending width text.
        width: String,
    },
    /// A width above [`MAX_WIDTH`].
    #[error(
        "representation spec `{spec}`: width {width} is more than the {MAX_WIDTH} units a layer may have"
    )]
    TooWide {
        /// The whole spec.
        spec: String,
        /// The width asked for.
        width: String,
    },
    /// A Hadamard product of branches with different output widths (CReLU with another).
    #[error(
        "representation spec `{spec}`: crelu doubles its branch's outputs, so it pairs only with itself in a Hadamard product (hr-crelu); {VALID_FORMS}"
    )]
    UnequalBranchWidths {
        /// The whole spec.
        spec: String,
    },
    /// `@matched` on a Hadamard spec.
    #[error(
        "representation spec `{spec}`: @matched applies to single-branch specs (it matches the Hadamard network's parameter count); {VALID_FORMS}"
    )]
    MatchedHadamard {
        /// The whole spec.
        spec: String,
    },
    /// Anything else that does not follow the grammar.
    #[error("representation spec `{spec}` is malformed; {VALID_FORMS}")]
    Malformed {
        /// The whole spec.
        spec: String,
    },
}

impl FromStr for ReprSpec {
    type Err = SpecError;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let malformed = || SpecError::Malformed {
            spec: spec.to_string(),
        };
        let (rest, width) = match spec.split_once('@') {
            Some((rest, width_text)) => (rest, parse_width(spec, width_text)?),
            None => (spec, Width::Default),
        };
        let (body, layer_norm) = match rest.strip_suffix("+ln") {
            Some(body) => (body, true),
            None => (rest, false),
        };
        if body.is_empty() || body.contains(['+', '@']) {
            return Err(malformed());
        }
        let activation = |name: &str| {
            Activation::from_name(name).ok_or_else(|| SpecError::UnknownActivation {
                spec: spec.to_string(),
                name: name.to_string(),
            })
        };
        let branches = match body.strip_prefix("hr-") {
            Some(pair) => match pair.split_once('*') {
                Some((first, second)) => {
                    Branches::Hadamard(activation(first)?, activation(second)?)
                }
                None => {
                    let act = activation(pair)?;
                    Branches::Hadamard(act, act)
                }
            },
            None if body.contains('*') => return Err(malformed()),
            None => Branches::Single(activation(body)?),
        };
        if let Branches::Hadamard(a, b) = branches
            && a.outputs_per_unit() != b.outputs_per_unit()
        {
            return Err(SpecError::UnequalBranchWidths {
                spec: spec.to_string(),
            });
        }
        if matches!(branches, Branches::Hadamard(..)) && width == Width::Matched {
            return Err(SpecError::MatchedHadamard {
                spec: spec.to_string(),
            });
        }
        Ok(ReprSpec {
            branches,
            layer_norm,
            width,
        })
    }
}

/// The widest layer a spec may ask for (`@WIDTH`): wider layers of the networks here need tens of
/// gigabytes, and their parameter counts overflow on the way.
pub const MAX_WIDTH: usize = 65_536;

fn parse_width(spec: &str, text: &str) -> Result<Width, SpecError> {
    if text == "matched" {
        return Ok(Width::Matched);
    }
    match text.parse::<u128>() {
        Ok(units) if units > MAX_WIDTH as u128 && !text.starts_with('+') => {
            Err(SpecError::TooWide {
                spec: spec.to_string(),
                width: text.to_string(),
            })
        }
        Ok(units) if units > 0 && !text.starts_with('+') => Ok(Width::Fixed(units as usize)),
        _ => Err(SpecError::BadWidth {
            spec: spec.to_string(),
            width: text.to_string(),
        }),
    }
}

impl fmt::Display for ReprSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.branches {
            Branches::Single(a) => write!(f, "{a}")?,
            Branches::Hadamard(a, b) if a == b => write!(f, "hr-{a}")?,
            Branches::Hadamard(a, b) => write!(f, "hr-{a}*{b}")?,
        }
        if self.layer_norm {
            f.write_str("+ln")?;
        }
        match self.width {
            Width::Default => Ok(()),
            Width::Fixed(units) => write!(f, "@{units}"),
            Width::Matched => f.write_str("@matched"),
        }
    }
}

impl serde::Serialize for ReprSpec {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for ReprSpec {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> ReprSpec {
        text.parse()
            .unwrap_or_else(|e| panic!("`{text}` should parse: {e}"))
    }

    #[test]
    fn parses_the_documented_examples() {
        assert_eq!(parse("tanh"), ReprSpec::single(Activation::Tanh));
        assert_eq!(parse("relu@1024").width, Width::Fixed(1024));
        assert_eq!(parse("tanh@matched").width, Width::Matched);
        assert_eq!(
            parse("hr-tanh").branches,
            Branches::Hadamard(Activation::Tanh, Activation::Tanh)
        );
        let with_ln = parse("hr-tanh+ln");
        assert!(with_ln.layer_norm && with_ln.is_hadamard());
        assert_eq!(
            parse("hr-relu").branches,
            Branches::Hadamard(Activation::Relu, Activation::Relu)
        );
        assert_eq!(
            parse("hr-tanh*gelu").branches,
            Branches::Hadamard(Activation::Tanh, Activation::Gelu)
        );
        let full = parse("hr-sigmoid*identity+ln@64");
        assert_eq!(
            full,
            ReprSpec {
                branches: Branches::Hadamard(Activation::Sigmoid, Activation::Identity),
                layer_norm: true,
                width: Width::Fixed(64),
            }
        );
    }

    #[test]
    fn display_round_trips_every_combination() {
        let widths = [Width::Default, Width::Fixed(7), Width::Matched];
        for a in Activation::ALL {
            for b in Activation::ALL {
                for layer_norm in [false, true] {
                    for width in widths {
                        for branches in [Branches::Single(a), Branches::Hadamard(a, b)] {
                            let spec = ReprSpec {
                                branches,
                                layer_norm,
                                width,
                            };
                            let text = spec.to_string();
                            match text.parse::<ReprSpec>() {
                                Ok(back) => assert_eq!(back, spec, "{text}"),
                                Err(SpecError::MatchedHadamard { .. }) => {
                                    assert!(spec.is_hadamard() && width == Width::Matched)
                                }
                                Err(SpecError::UnequalBranchWidths { .. }) => assert!(
                                    a.outputs_per_unit() != b.outputs_per_unit()
                                        && spec.is_hadamard()
                                ),
                                Err(e) => panic!("{text}: {e}"),
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn same_activation_pair_prints_in_short_form() {
        assert_eq!(parse("hr-tanh*tanh").to_string(), "hr-tanh");
    }

    #[test]
    fn rejects_bad_specs_naming_the_valid_forms() {
        for bad in [
            "",
            "hr-",
            "hr-tanh*",
            "*tanh",
            "tanh*gelu",
            "swish",
            "hr-swish",
            "tanh@",
            "tanh@0",
            "tanh@-3",
            "tanh@+3",
            "tanh@wide",
            "tanh@12@3",
            "tanh+ln+ln",
            "tanh@64+ln",
            "hr-tanh@matched",
            "hr-tanh*gelu*relu",
            "TANH",
            " tanh",
        ] {
            let err = bad
                .parse::<ReprSpec>()
                .expect_err(&format!("`{bad}` should be rejected"));
            let message = err.to_string();
            assert!(message.contains(VALID_FORMS), "{message}");
            assert!(message.contains(&format!("`{bad}`")), "{message}");
        }
    }

    #[test]
    fn unknown_activation_is_named() {
        let err = "hr-tanh*swish".parse::<ReprSpec>().unwrap_err();
        assert_eq!(
            err,
            SpecError::UnknownActivation {
                spec: "hr-tanh*swish".into(),
                name: "swish".into()
            }
        );
    }

    #[test]
    fn serde_uses_the_string_form() {
        #[derive(serde::Serialize, serde::Deserialize)]
        struct Holder {
            repr: ReprSpec,
        }
        let text = toml::to_string(&Holder {
            repr: parse("hr-tanh+ln"),
        })
        .unwrap();
        assert_eq!(text.trim(), "repr = \"hr-tanh+ln\"");
        let err = toml::from_str::<Holder>("repr = \"hr-swish\"")
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("unknown activation `swish`"), "{err}");
    }
}
