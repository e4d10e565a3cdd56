//! Property tests of the per-line check letters (see src/secrets/lines.rs):
//! every single-digit error, every swap of two different digits, and every
//! line typed in another line's place changes the check letter; the check
//! alphabet avoids hex digits and confusable letters.

use locksmith::secrets::lines::{
    check_letter, check_typed_line, CHECK_ALPHABET, DIGITS_PER_LINE, LINES,
};
use proptest::prelude::*;

fn line_digits() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(0u8..16, DIGITS_PER_LINE)
}

fn typed(digits: &[u8], check: char) -> String {
    let hex: String = digits
        .iter()
        .map(|d| {
            char::from_digit(u32::from(*d), 16)
                .unwrap()
                .to_ascii_uppercase()
        })
        .collect();
    format!(
        "{} {} {} {} {check}",
        &hex[0..4],
        &hex[4..8],
        &hex[8..12],
        &hex[12..16]
    )
}

proptest! {
    #[test]
    fn correct_lines_are_accepted(digits in line_digits(), line in 1usize..=LINES) {
        let c = check_letter(line, &digits);
        let back = check_typed_line(line, &typed(&digits, c)).unwrap();
        prop_assert_eq!(&back[..], &digits[..]);
        // Lowercase input is accepted too.
        let lower = check_typed_line(line, &typed(&digits, c).to_lowercase()).unwrap();
        prop_assert_eq!(&lower[..], &digits[..]);
    }

    #[test]
    fn every_single_digit_error_is_caught(
        digits in line_digits(),
        line in 1usize..=LINES,
        pos in 0usize..DIGITS_PER_LINE,
        delta in 1u8..16,
    ) {
        let c = check_letter(line, &digits);
        let mut wrong = digits.clone();
        wrong[pos] = (wrong[pos] + delta) % 16;
        prop_assert_ne!(check_letter(line, &wrong), c);
        prop_assert!(check_typed_line(line, &typed(&wrong, c)).is_err());
    }

    #[test]
    fn every_swap_of_two_different_digits_is_caught(
        digits in line_digits(),
        line in 1usize..=LINES,
        i in 0usize..DIGITS_PER_LINE,
        j in 0usize..DIGITS_PER_LINE,
    ) {
        prop_assume!(digits[i] != digits[j]);
        let mut swapped = digits.clone();
        swapped.swap(i, j);
        prop_assert_ne!(check_letter(line, &swapped), check_letter(line, &digits));
    }

    #[test]
    fn a_line_typed_in_another_place_is_caught(
        digits in line_digits(),
        from in 1usize..=LINES,
        to in 1usize..=LINES,
    ) {
        prop_assume!(from != to);
        let c = check_letter(from, &digits);
        prop_assert!(check_typed_line(to, &typed(&digits, c)).is_err());
    }

    #[test]
    fn wrong_check_letters_are_caught(digits in line_digits(), line in 1usize..=LINES, k in 0usize..17) {
        let c = check_letter(line, &digits);
        let other = CHECK_ALPHABET[k] as char;
        prop_assume!(other != c);
        prop_assert!(check_typed_line(line, &typed(&digits, other)).is_err());
    }
}

#[test]
fn check_alphabet_is_unambiguous() {
    assert_eq!(CHECK_ALPHABET.len(), 17);
    let mut seen = std::collections::HashSet::new();
    for &b in CHECK_ALPHABET {
        assert!(seen.insert(b), "duplicate letter");
        let c = b as char;
        assert!(c.is_ascii_uppercase());
        assert!(!c.is_ascii_hexdigit(), "{c} would be read as a hex digit");
        assert!(!"ILO".contains(c), "{c} is confusable with 1 or 0");
    }
}

#[test]
fn every_check_letter_occurs() {
    // A line whose only non-zero digit is the first (weight 1) has the
    // checksum line + d, which runs over 1..=19: every residue mod 17.
    let mut seen = std::collections::HashSet::new();
    for d in 0u8..16 {
        for line in 1..=LINES {
            let mut digits = vec![0u8; DIGITS_PER_LINE];
            digits[0] = d;
            seen.insert(check_letter(line, &digits));
        }
    }
    assert_eq!(seen.len(), 17);
}
