//! The throughput chart of the home page: transactions per block over the
//! recent blocks as an inline SVG bar chart (no script needed), with the
//! average rate in transactions per second over the same span.

use std::fmt::Write;

use crate::format;

/// One block's point: number, timestamp, transaction count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Point {
    pub number: u64,
    pub timestamp: u64,
    pub txs: u64,
}

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 200.0;
const LEFT: f64 = 44.0;
const BOTTOM: f64 = 24.0;
const TOP: f64 = 10.0;

/// Transactions per second from the first to the last point's time; `None`
/// when they share a second (instant dev blocks) or there are none. The
/// genesis block is left out: its time is the chain spec's, not a block's.
pub fn rate(points: &[Point]) -> Option<f64> {
    let points: Vec<Point> = points.iter().copied().filter(|p| p.number > 0).collect();
    let (first, last) = (points.first()?, points.last()?);
    let span = last.timestamp.checked_sub(first.timestamp)?;
    // The first block's transactions arrived before its own timestamp.
    let txs: u64 = points.iter().skip(1).map(|p| p.txs).sum();
    (span > 0).then(|| txs as f64 / span as f64)
}

/// The chart's SVG and a one-line summary under it, oldest block first.
pub fn render(points: &[Point]) -> String {
    if points.is_empty() {
        return r#"<p class="empty">No blocks yet.</p>"#.into();
    }
    let max = axis_top(points.iter().map(|p| p.txs).max().unwrap_or(0));
    let plot_w = WIDTH - LEFT - 8.0;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let slot = plot_w / points.len() as f64;
    // Thin bars even for a young chain with few blocks.
    let bar_w = (slot * 0.75).clamp(1.0, 28.0);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="Transactions per block over the last {n} blocks">"#,
        n = points.len()
    );
    for frac in [0.0, 0.5, 1.0] {
        let y = TOP + plot_h * (1.0 - frac);
        let label = (max as f64 * frac) as u64;
        let _ = write!(
            svg,
            r#"<line class="grid" x1="{LEFT}" x2="{x2}" y1="{y:.1}" y2="{y:.1}"/><text class="axis" x="{tx}" y="{ty:.1}" text-anchor="end">{label}</text>"#,
            x2 = WIDTH - 8.0,
            tx = LEFT - 6.0,
            ty = y + 4.0,
        );
    }
    for (i, p) in points.iter().enumerate() {
        let h = plot_h * p.txs as f64 / max as f64;
        let x = LEFT + slot * i as f64 + (slot - bar_w) / 2.0;
        let y = TOP + plot_h - h;
        let _ = write!(
            svg,
            r#"<a href="/block/{n}"><rect class="bar" x="{x:.1}" y="{y:.1}" width="{bar_w:.1}" height="{h:.1}"><title>Block {n}: {txs} tx</title></rect></a>"#,
            n = p.number,
            txs = p.txs,
        );
    }
    if let (Some(first), Some(last)) = (points.first(), points.last()) {
        let y = HEIGHT - 6.0;
        let _ = write!(
            svg,
            r#"<text class="axis" x="{LEFT}" y="{y}">#{}</text><text class="axis" x="{x}" y="{y}" text-anchor="end">#{}</text>"#,
            first.number,
            last.number,
            x = WIDTH - 8.0,
        );
    }
    svg.push_str("</svg>");
    let total: u64 = points.iter().map(|p| p.txs).sum();
    let busiest = points.iter().map(|p| p.txs).max().unwrap_or(0);
    let rate = match rate(points) {
        Some(r) => format!("{r:.2} tx/s"),
        None => "— tx/s (all in one second)".into(),
    };
    format!(
        r#"{svg}<p class="chart-summary"><strong>{rate}</strong> over the last {n} blocks · {total} transactions · busiest block {busiest} tx</p>"#,
        n = points.len(),
        total = format::thousands(total),
    )
}

/// The top of the y axis: an even "nice" number (2, 10, 20, 50, 100, ...)
/// at or above `max`, so the axis labels (0, half, top) are whole.
fn axis_top(max: u64) -> u64 {
    let mut step = 1u64;
    loop {
        for m in [2, 5, 10] {
            let top = step.saturating_mul(m);
            if top >= max {
                return top;
            }
        }
        step = step.saturating_mul(10);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(number: u64, timestamp: u64, txs: u64) -> Point {
        Point {
            number,
            timestamp,
            txs,
        }
    }

    #[test]
    fn rate_counts_transactions_after_the_first_block() {
        assert_eq!(rate(&[]), None);
        assert_eq!(rate(&[p(1, 10, 5), p(2, 10, 5)]), None);
        assert_eq!(rate(&[p(1, 10, 5), p(2, 12, 4), p(3, 14, 6)]), Some(2.5));
        assert_eq!(rate(&[p(0, 0, 0), p(1, 1000, 5), p(2, 1002, 4)]), Some(2.0));
    }

    #[test]
    fn the_axis_ends_on_a_round_number() {
        assert_eq!(axis_top(0), 2);
        assert_eq!(axis_top(1), 2);
        assert_eq!(axis_top(3), 5);
        assert_eq!(axis_top(6), 10);
        assert_eq!(axis_top(11), 20);
        assert_eq!(axis_top(4321), 5000);
    }

    #[test]
    fn one_bar_per_block_scaled_to_the_busiest() {
        let svg = render(&[p(7, 0, 0), p(8, 1, 3), p(9, 2, 6)]);
        assert!(
            svg.contains(">10</text>") && svg.contains(">5</text>"),
            "{svg}"
        );
        assert_eq!(svg.matches("<rect").count(), 3);
        assert!(svg.contains("Block 9: 6 tx") && svg.contains("href=\"/block/8\""));
        assert!(svg.contains("4.50 tx/s"), "{svg}");
        assert!(render(&[]).contains("No blocks yet"));
    }
}
