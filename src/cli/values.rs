//! The CLI's glue between clap and the library's value enums.
//!
//! The library names its enum values without clap (`ALL`, `name()`,
//! `description()` and `FromStr`); here they become [`clap::ValueEnum`]s,
//! so that `#[arg(value_enum)]` lists the same possible values, with the
//! same help, in `--help`, the man pages and the shell completions.

use crate::exchange::qr_code::Ecc;
use crate::exchange::qr_out::{Density, QrContent, QrFormat};
use crate::exchange::qr_render::TerminalColors;
use crate::signers::{PinPolicyArg, TouchPolicyArg};
use clap::builder::PossibleValue;

macro_rules! value_enum {
    ($($ty:ty),* $(,)?) => {$(
        impl clap::ValueEnum for $ty {
            fn value_variants<'a>() -> &'a [Self] {
                &<$ty>::ALL
            }

            fn to_possible_value(&self) -> Option<PossibleValue> {
                Some(PossibleValue::new(self.name()).help(self.description()))
            }
        }
    )*};
}

value_enum!(
    Ecc,
    QrFormat,
    Density,
    QrContent,
    TerminalColors,
    PinPolicyArg,
    TouchPolicyArg
);

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    /// clap parses each value by its library name, and the library's
    /// `FromStr` agrees on every one of them.
    fn round_trips<T: ValueEnum + std::str::FromStr + PartialEq + std::fmt::Debug>()
    where
        T::Err: std::fmt::Debug,
    {
        for v in T::value_variants() {
            let pv = v.to_possible_value().expect("a value");
            assert_eq!(
                &<T as ValueEnum>::from_str(pv.get_name(), false).expect("clap"),
                v
            );
            assert_eq!(&pv.get_name().parse::<T>().expect("FromStr"), v);
            assert!(pv.get_help().is_some_and(|h| !h.to_string().is_empty()));
        }
    }

    #[test]
    fn every_value_enum_round_trips() {
        round_trips::<Ecc>();
        round_trips::<QrFormat>();
        round_trips::<Density>();
        round_trips::<QrContent>();
        round_trips::<TerminalColors>();
        round_trips::<PinPolicyArg>();
        round_trips::<TouchPolicyArg>();
    }
}
