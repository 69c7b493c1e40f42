//! `tally bench --kind A --versus B`: two workloads on one node in one run.
//!
//! A node's speed drifts over a run (its history grows, the machine's
//! other load comes and goes), so one run of each kind after the other
//! mostly measures the drift. Rounds alternate the order (A B, then B A,
//! ...) so drift falls on both kinds alike, and the summary gives each
//! kind's median: what the issue's "native transfers at least as fast as
//! the EVM ERC-20" is judged on.
//!
//! Each round's two runs are also compared with each other: they ran
//! back to back, so their ratio carries less of the machine's drift than
//! the ratio of the medians. The summary gives the median of those paired
//! ratios and how many rounds `--kind` won.

use serde::Serialize;

use super::plan::Kind;
use super::report::Report;

/// One kind's runs, reduced.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct KindSummary {
    pub kind: String,
    pub runs: usize,
    pub median_tps: f64,
    pub min_tps: f64,
    pub max_tps: f64,
    pub median_p99_ms: f64,
    /// Median of the node's EVM execution stage per run, when the node
    /// reports its stages (`tally_metrics`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub median_execute_ms: Option<f64>,
}

/// The whole comparison: every run in the order it ran, and the summary.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Comparison {
    pub runs: Vec<Report>,
    /// `--kind` first, then `--versus`.
    pub summary: [KindSummary; 2],
    /// `--kind`'s median throughput over `--versus`'s.
    pub ratio: f64,
    /// Per round, `--kind`'s throughput over `--versus`'s in that round.
    pub paired_ratios: Vec<f64>,
    /// The median of [`Comparison::paired_ratios`].
    pub median_paired_ratio: f64,
    /// Rounds in which `--kind` was at least as fast as `--versus`.
    pub rounds_won: usize,
}

/// The kinds in round `round`'s order: `a` first in even rounds.
pub fn order(a: Kind, b: Kind, round: usize) -> [Kind; 2] {
    if round.is_multiple_of(2) {
        [a, b]
    } else {
        [b, a]
    }
}

impl Comparison {
    pub fn new(a: Kind, b: Kind, runs: Vec<Report>) -> Self {
        let summary = [summarize(a, &runs), summarize(b, &runs)];
        let ratio = if summary[1].median_tps > 0.0 {
            summary[0].median_tps / summary[1].median_tps
        } else {
            0.0
        };
        let kind_tps: Vec<(&str, f64)> = runs
            .iter()
            .map(|r| (r.run.kind.as_str(), r.throughput_tps))
            .collect();
        let paired_ratios = paired_ratios(a, b, &kind_tps);
        Self {
            median_paired_ratio: median(&paired_ratios),
            rounds_won: paired_ratios.iter().filter(|r| **r >= 1.0).count(),
            paired_ratios,
            runs,
            summary,
            ratio,
        }
    }

    pub fn to_table(&self) -> String {
        let mut s = String::from("run  kind      throughput   p99 latency   execution\n");
        for (i, r) in self.runs.iter().enumerate() {
            s.push_str(&format!(
                "{:>3}  {:<8} {:>8.0} tx/s {:>9.0} ms {:>9}\n",
                i + 1,
                r.run.kind,
                r.throughput_tps,
                r.latency.p99_ms,
                execute_ms(r).map_or("-".into(), |ms| format!("{ms:.0} ms")),
            ));
        }
        s.push('\n');
        for k in &self.summary {
            s.push_str(&format!(
                "{:<8} {} runs: median {:.0} tx/s (min {:.0}, max {:.0}), median p99 {:.0} ms{}\n",
                k.kind,
                k.runs,
                k.median_tps,
                k.min_tps,
                k.max_tps,
                k.median_p99_ms,
                k.median_execute_ms
                    .map(|ms| format!(", median execution {ms:.0} ms"))
                    .unwrap_or_default(),
            ));
        }
        let (a, b) = (&self.summary[0].kind, &self.summary[1].kind);
        s.push_str(&format!("{a} / {b} median throughput: {:.3}\n", self.ratio));
        let each: Vec<String> = self
            .paired_ratios
            .iter()
            .map(|r| format!("{r:.3}"))
            .collect();
        s.push_str(&format!(
            "{a} / {b} within each round: median {:.3} ({}); {a} at least as fast in {} of {} rounds\n",
            self.median_paired_ratio,
            each.join(", "),
            self.rounds_won,
            self.paired_ratios.len()
        ));
        s
    }
}

fn execute_ms(report: &Report) -> Option<f64> {
    report.node_time_ms.as_ref()?.get("executeMs").copied()
}

/// Each round's `a` throughput over its `b` throughput, in round order,
/// from the runs' (kind, throughput) in the order they ran: pairs, one of
/// each kind, as [`order`] gives them. A round without both kinds is left
/// out.
fn paired_ratios(a: Kind, b: Kind, runs: &[(&str, f64)]) -> Vec<f64> {
    runs.chunks(2)
        .filter_map(|pair| {
            let tps = |k: Kind| {
                pair.iter()
                    .find(|(kind, _)| *kind == k.name())
                    .map(|(_, tps)| *tps)
            };
            let (ta, tb) = (tps(a)?, tps(b)?);
            (tb > 0.0).then(|| ta / tb)
        })
        .collect()
}

fn summarize(kind: Kind, runs: &[Report]) -> KindSummary {
    let mine: Vec<&Report> = runs.iter().filter(|r| r.run.kind == kind.name()).collect();
    let tps: Vec<f64> = mine.iter().map(|r| r.throughput_tps).collect();
    let execute: Vec<f64> = mine.iter().filter_map(|r| execute_ms(r)).collect();
    KindSummary {
        kind: kind.name().to_string(),
        runs: mine.len(),
        median_tps: median(&tps),
        min_tps: tps.iter().copied().reduce(f64::min).unwrap_or(0.0),
        max_tps: tps.iter().copied().reduce(f64::max).unwrap_or(0.0),
        median_p99_ms: median(&mine.iter().map(|r| r.latency.p99_ms).collect::<Vec<_>>()),
        median_execute_ms: (execute.len() == mine.len() && !execute.is_empty())
            .then(|| median(&execute)),
    }
}

/// The median (the mean of the middle two for an even count); 0 for none.
pub fn median(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if !v.len().is_multiple_of(2) {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(&[]), 0.0);
    }

    #[test]
    fn each_round_is_compared_within_itself() {
        let runs = [
            ("asset", 900.0),
            ("erc20", 1000.0),
            ("erc20", 1000.0),
            ("asset", 1200.0),
            ("asset", 1000.0),
            ("erc20", 0.0),
        ];
        // The third round's ERC-20 run included nothing: no ratio.
        let ratios = paired_ratios(Kind::Asset, Kind::Erc20, &runs);
        assert_eq!(ratios, vec![0.9, 1.2]);
        let back = paired_ratios(Kind::Erc20, Kind::Asset, &runs[..4]);
        assert_eq!(back, vec![1000.0 / 900.0, 1000.0 / 1200.0]);
    }

    #[test]
    fn rounds_alternate_the_order() {
        assert_eq!(
            order(Kind::Asset, Kind::Erc20, 0),
            [Kind::Asset, Kind::Erc20]
        );
        assert_eq!(
            order(Kind::Asset, Kind::Erc20, 1),
            [Kind::Erc20, Kind::Asset]
        );
        assert_eq!(
            order(Kind::Asset, Kind::Erc20, 2),
            [Kind::Asset, Kind::Erc20]
        );
    }
}
