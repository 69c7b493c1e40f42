//! `tally bench --kind A --versus B`: two workloads on one node in one run.
//!
//! A node's speed drifts over a run (its history grows, the machine's
//! other load comes and goes), so one run of each kind after the other
//! mostly measures the drift. Rounds alternate the order (A B, then B A,
//! ...) so drift falls on both kinds alike, and the summary gives each
//! kind's median: what the issue's "native transfers at least as fast as
//! the EVM ERC-20" is judged on.

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
        Self {
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
        s.push_str(&format!(
            "{} / {} median throughput: {:.3}\n",
            self.summary[0].kind, self.summary[1].kind, self.ratio
        ));
        s
    }
}

fn execute_ms(report: &Report) -> Option<f64> {
    report.node_time_ms.as_ref()?.get("executeMs").copied()
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
