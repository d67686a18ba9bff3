//! Per-class results of a classifier, in the conventional shape of scikit-learn's
//! `classification_report` and `confusion_matrix`: precision, recall, F1 and support per class,
//! accuracy, macro and weighted averages.

use std::fmt::Write as _;

/// One class's row.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassRow {
    /// Class name.
    pub name: String,
    /// Of the images predicted as this class, the share that are.
    pub precision: f64,
    /// Of the images of this class, the share predicted as it.
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// Images of this class.
    pub support: usize,
}

/// A classification report.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Per class.
    pub rows: Vec<ClassRow>,
    /// `confusion[true][predicted]` counts.
    pub confusion: Vec<Vec<usize>>,
    /// Share of correct predictions.
    pub accuracy: f64,
    /// Unweighted means of precision, recall, F1.
    pub macro_avg: (f64, f64, f64),
    /// Support-weighted means.
    pub weighted_avg: (f64, f64, f64),
}

/// The report of `predicted` against `truth` (class indices) for `names`.
#[must_use]
pub fn report(truth: &[u8], predicted: &[usize], names: &[String]) -> Report {
    let k = names.len();
    let mut confusion = vec![vec![0usize; k]; k];
    for (&t, &p) in truth.iter().zip(predicted) {
        if let (Some(row), true) = (confusion.get_mut(usize::from(t)), p < k) {
            row[p] += 1;
        }
    }
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let rows: Vec<ClassRow> = (0..k)
        .map(|c| {
            let tp = confusion[c][c];
            let predicted_c: usize = (0..k).map(|t| confusion[t][c]).sum();
            let support: usize = confusion[c].iter().sum();
            let (precision, recall) = (ratio(tp, predicted_c), ratio(tp, support));
            let f1 = if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
            ClassRow { name: names[c].to_string(), precision, recall, f1, support }
        })
        .collect();
    let n: usize = rows.iter().map(|r| r.support).sum();
    let correct: usize = (0..k).map(|c| confusion[c][c]).sum();
    let mean = |f: fn(&ClassRow) -> f64| rows.iter().map(f).sum::<f64>() / k.max(1) as f64;
    let weighted =
        |f: fn(&ClassRow) -> f64| rows.iter().map(|r| f(r) * r.support as f64).sum::<f64>() / n.max(1) as f64;
    Report {
        accuracy: ratio(correct, n),
        macro_avg: (mean(|r| r.precision), mean(|r| r.recall), mean(|r| r.f1)),
        weighted_avg: (weighted(|r| r.precision), weighted(|r| r.recall), weighted(|r| r.f1)),
        rows,
        confusion,
    }
}

impl Report {
    /// `class,precision,recall,f1,support` rows, then accuracy and the averages.
    #[must_use]
    pub fn to_csv(&self) -> String {
        let mut s = String::from("class,precision,recall,f1,support\n");
        for r in &self.rows {
            let _ = writeln!(
                s,
                "{},{:.6},{:.6},{:.6},{}",
                r.name.replace(',', " "),
                r.precision,
                r.recall,
                r.f1,
                r.support
            );
        }
        let n: usize = self.rows.iter().map(|r| r.support).sum();
        let (mp, mr, mf) = self.macro_avg;
        let (wp, wr, wf) = self.weighted_avg;
        let _ = writeln!(s, "accuracy,,,{:.6},{n}", self.accuracy);
        let _ = writeln!(s, "macro avg,{mp:.6},{mr:.6},{mf:.6},{n}");
        let _ = writeln!(s, "weighted avg,{wp:.6},{wr:.6},{wf:.6},{n}");
        s
    }

    /// The same as a Markdown table (percentages).
    #[must_use]
    pub fn to_markdown(&self) -> String {
        let mut s = String::from("| class | precision | recall | F1 | support |\n|---|---|---|---|---|\n");
        let pct = |x: f64| format!("{:.1}%", 100.0 * x);
        for r in &self.rows {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} |",
                r.name,
                pct(r.precision),
                pct(r.recall),
                pct(r.f1),
                r.support
            );
        }
        let n: usize = self.rows.iter().map(|r| r.support).sum();
        let (mp, mr, mf) = self.macro_avg;
        let (wp, wr, wf) = self.weighted_avg;
        let _ = writeln!(s, "| **accuracy** | | | {} | {n} |", pct(self.accuracy));
        let _ = writeln!(s, "| macro avg | {} | {} | {} | {n} |", pct(mp), pct(mr), pct(mf));
        let _ = writeln!(s, "| weighted avg | {} | {} | {} | {n} |", pct(wp), pct(wr), pct(wf));
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of scikit-learn's documentation for `classification_report`.
    #[test]
    fn matches_scikit_learns_example() {
        let truth = [0u8, 1, 2, 2, 2];
        let predicted = [0usize, 0, 2, 2, 1];
        let r = report(&truth, &predicted, &["class 0".into(), "class 1".into(), "class 2".into()]);
        let p: Vec<f64> = r.rows.iter().map(|x| (x.precision * 100.0).round() / 100.0).collect();
        let rec: Vec<f64> = r.rows.iter().map(|x| (x.recall * 100.0).round() / 100.0).collect();
        let f: Vec<f64> = r.rows.iter().map(|x| (x.f1 * 100.0).round() / 100.0).collect();
        assert_eq!(p, [0.5, 0.0, 1.0]);
        assert_eq!(rec, [1.0, 0.0, 0.67]);
        assert_eq!(f, [0.67, 0.0, 0.8]);
        assert_eq!(r.accuracy, 0.6);
        assert!((r.macro_avg.0 - 0.5).abs() < 1e-9 && (r.weighted_avg.2 - 0.613_333).abs() < 1e-6);
        assert_eq!(r.confusion, vec![vec![1, 0, 0], vec![1, 0, 0], vec![0, 1, 2]]);
        assert!(r.to_markdown().contains("| class 2 | 100.0% | 66.7% | 80.0% | 3 |"));
    }
}
