//! Integer rounding: half up for non-negative amounts, and largest-remainder allocation.

/// `numerator / denominator` rounded half up. Both must be non-negative and the
/// denominator positive.
pub fn div_round_half_up(numerator: i128, denominator: i128) -> i128 {
    debug_assert!(numerator >= 0 && denominator > 0);
    (2 * numerator + denominator) / (2 * denominator)
}

/// The tax contained in a tax-inclusive `amount` at `rate_bp`.
pub fn tax_in(amount: i64, rate_bp: u32) -> i64 {
    let rate = i128::from(rate_bp);
    narrow(div_round_half_up(i128::from(amount) * rate, 10_000 + rate))
}

/// The tax added on top of a tax-exclusive `amount` at `rate_bp`.
pub fn tax_on(amount: i64, rate_bp: u32) -> i64 {
    narrow(div_round_half_up(
        i128::from(amount) * i128::from(rate_bp),
        10_000,
    ))
}

/// Amounts here are bounded by the quote's overflow checks; saturate rather than wrap.
fn narrow(value: i128) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Splits `total` over `weights` in proportion, by largest remainder: every share is the
/// floor of its exact share, and the units left over go to the largest remainders (ties to
/// the earlier weight). The shares always add up to `total` exactly. All zero weights give
/// all zero shares.
pub fn allocate(total: i64, weights: &[i64]) -> Vec<i64> {
    let sum: i128 = weights.iter().map(|w| i128::from(*w)).sum();
    if sum <= 0 || total <= 0 {
        return vec![0; weights.len()];
    }
    let total = i128::from(total);
    let mut shares: Vec<i128> = Vec::with_capacity(weights.len());
    let mut remainders: Vec<(i128, usize)> = Vec::with_capacity(weights.len());
    for (i, w) in weights.iter().enumerate() {
        let exact = total * i128::from(*w);
        shares.push(exact / sum);
        remainders.push((exact % sum, i));
    }
    let mut left = total - shares.iter().sum::<i128>();
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, i) in remainders {
        if left == 0 {
            break;
        }
        shares[i] += 1;
        left -= 1;
    }
    shares.into_iter().map(narrow).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_up_rounds_halves_away_from_zero() {
        assert_eq!(div_round_half_up(5, 2), 3);
        assert_eq!(div_round_half_up(4, 2), 2);
        assert_eq!(div_round_half_up(1, 3), 0);
        assert_eq!(div_round_half_up(2, 3), 1);
    }

    #[test]
    fn tax_in_and_on_match_hand_computed_examples() {
        assert_eq!(tax_in(214, 700), 14); // 2.14 incl. 7%: net 2.00
        assert_eq!(tax_in(100, 1900), 16); // 15.97
        assert_eq!(tax_on(1000, 725), 73); // 72.5 rounds up
        assert_eq!(tax_on(199, 700), 14); // 13.93
        assert_eq!(tax_in(500, 0), 0);
    }

    #[test]
    fn allocation_adds_up_exactly_and_favours_the_largest_remainder() {
        assert_eq!(allocate(10, &[1, 1, 1]), vec![4, 3, 3]);
        assert_eq!(allocate(100, &[50, 25, 25]), vec![50, 25, 25]);
        assert_eq!(allocate(1, &[1, 2]), vec![0, 1]);
        assert_eq!(allocate(7, &[0, 0]), vec![0, 0]);
        assert_eq!(allocate(0, &[3, 4]), vec![0, 0]);
    }
}
