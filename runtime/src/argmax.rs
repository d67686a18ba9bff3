//! The index of the largest value, one definition for every caller (the runtime's `classify`, the
//! validation against the float model, the trainer).

/// The index of the first largest value; values that compare with nothing (NaN) never win, and
/// an empty or all-NaN sequence gives 0.
#[must_use]
pub fn argmax<T: PartialOrd>(values: impl IntoIterator<Item = T>) -> usize {
    let mut best: Option<(usize, T)> = None;
    for (i, v) in values.into_iter().enumerate() {
        let better = match &best {
            None => v.partial_cmp(&v).is_some(),
            Some((_, b)) => v > *b,
        };
        if better {
            best = Some((i, v));
        }
    }
    best.map_or(0, |(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::argmax;

    #[test]
    fn first_maximum_wins_and_nan_never_does() {
        assert_eq!(argmax([1.0f32, 3.0, 3.0, 2.0]), 1);
        assert_eq!(argmax([f32::NAN, -1.0, -2.0]), 1);
        assert_eq!(argmax([f32::NAN, f32::NAN]), 0);
        assert_eq!(argmax(core::iter::empty::<i32>()), 0);
        assert_eq!(argmax([i32::MIN, i32::MIN]), 0);
        assert_eq!(argmax([-5i32, 7, -128]), 1);
    }
}
