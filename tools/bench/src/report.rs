//! The results: every figure of the run, each next to its target where issue 7 names
//! one, printed as one table at the end and optionally written as JSON.
//!
//! Sections only add figures; judging them against targets happens here, in one place,
//! so the table and the JSON always agree on what was met.

use serde_json::{Value, json};

/// A target a figure should meet.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Target {
    /// At least this much (throughput).
    AtLeast(f64),
    /// At most this much (latency, memory, ratios).
    AtMost(f64),
}

impl Target {
    /// Whether `value` meets the target.
    pub fn met_by(self, value: f64) -> bool {
        match self {
            Target::AtLeast(min) => value >= min,
            Target::AtMost(max) => value <= max,
        }
    }

    fn describe(self, unit: &str) -> String {
        match self {
            Target::AtLeast(min) => format!("≥ {} {unit}", number(min)),
            Target::AtMost(max) => format!("≤ {} {unit}", number(max)),
        }
    }
}

/// One measured figure.
#[derive(Clone, Debug)]
pub struct Figure {
    /// The section that measured it.
    pub section: &'static str,
    /// What it is.
    pub name: String,
    /// Its value, in `unit`.
    pub value: f64,
    /// Its unit.
    pub unit: &'static str,
    /// Its target, if the issue names one.
    pub target: Option<Target>,
}

/// Every figure of a run, in the order measured.
#[derive(Default)]
pub struct Report {
    figures: Vec<Figure>,
}

impl Report {
    /// Add a figure without a target.
    pub fn add(
        &mut self,
        section: &'static str,
        name: impl Into<String>,
        value: f64,
        unit: &'static str,
    ) {
        self.push(section, name.into(), value, unit, None);
    }

    /// Add a figure with its target.
    pub fn add_with_target(
        &mut self,
        section: &'static str,
        name: impl Into<String>,
        value: f64,
        unit: &'static str,
        target: Target,
    ) {
        self.push(section, name.into(), value, unit, Some(target));
    }

    fn push(
        &mut self,
        section: &'static str,
        name: String,
        value: f64,
        unit: &'static str,
        target: Option<Target>,
    ) {
        self.figures.push(Figure {
            section,
            name,
            value,
            unit,
            target,
        });
    }

    /// The figures so far.
    pub fn figures(&self) -> &[Figure] {
        &self.figures
    }

    /// How many figures miss their target.
    pub fn missed(&self) -> usize {
        self.figures
            .iter()
            .filter(|f| f.target.is_some_and(|t| !t.met_by(f.value)))
            .count()
    }

    /// The table: section, figure, value, target and whether it is met.
    pub fn table(&self) -> String {
        let rows: Vec<[String; 5]> = self
            .figures
            .iter()
            .map(|f| {
                let (target, verdict) = match f.target {
                    Some(t) if t.met_by(f.value) => (t.describe(f.unit), "met"),
                    Some(t) => (t.describe(f.unit), "MISSED"),
                    None => (String::new(), ""),
                };
                [
                    f.section.to_string(),
                    f.name.clone(),
                    format!("{} {}", number(f.value), f.unit),
                    target,
                    verdict.to_string(),
                ]
            })
            .collect();
        let header = ["section", "figure", "value", "target", ""].map(String::from);
        let mut widths = [0usize; 5];
        for row in std::iter::once(&header).chain(&rows) {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let line = |row: &[String; 5]| {
            let mut out = String::new();
            for (i, (cell, width)) in row.iter().zip(widths).enumerate() {
                let pad = width - cell.chars().count();
                // Values right-aligned, the rest left-aligned.
                if i == 2 {
                    out.push_str(&" ".repeat(pad));
                    out.push_str(cell);
                } else {
                    out.push_str(cell);
                    out.push_str(&" ".repeat(pad));
                }
                out.push_str(" | ");
            }
            out.trim_end_matches([' ', '|']).to_string()
        };
        let mut out = line(&header);
        out.push('\n');
        out.push_str(&"-".repeat(widths.iter().sum::<usize>() + 3 * 4));
        out.push('\n');
        for row in &rows {
            out.push_str(&line(row));
            out.push('\n');
        }
        out
    }

    /// Every figure as JSON, with `run` (the options and timings) alongside.
    pub fn to_json(&self, run: Value) -> Value {
        let figures: Vec<Value> = self
            .figures
            .iter()
            .map(|f| {
                let (target, met) = match f.target {
                    Some(t) => (
                        Value::String(t.describe(f.unit)),
                        Value::Bool(t.met_by(f.value)),
                    ),
                    None => (Value::Null, Value::Null),
                };
                json!({
                    "section": f.section, "figure": f.name, "value": f.value,
                    "unit": f.unit, "target": target, "met": met,
                })
            })
            .collect();
        json!({ "run": run, "figures": figures })
    }
}

/// A number as people read it: thousands separated, fewer decimals the larger it is.
pub fn number(value: f64) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    let decimals = match value.abs() {
        v if v >= 1000.0 || v.fract() == 0.0 => 0,
        v if v >= 100.0 => 1,
        v if v >= 1.0 => 2,
        _ => 3,
    };
    let text = format!("{value:.decimals$}");
    let (int, frac) = text
        .split_once('.')
        .map_or((text.as_str(), None), |(i, f)| (i, Some(f)));
    let (sign, digits) = int.strip_prefix('-').map_or(("", int), |d| ("-", d));
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    match frac {
        Some(frac) => format!("{sign}{grouped}.{frac}"),
        None => format!("{sign}{grouped}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_and_rounded_by_size() {
        assert_eq!(number(1_234_567.8), "1,234,568");
        assert_eq!(number(123.456), "123.5");
        assert_eq!(number(4.567), "4.57");
        assert_eq!(number(0.01234), "0.012");
        assert_eq!(number(-2500.0), "-2,500");
        assert_eq!(number(0.0), "0");
        assert_eq!(number(2.0), "2");
    }

    #[test]
    fn the_table_marks_met_and_missed_targets() {
        let mut report = Report::default();
        report.add_with_target(
            "ingest",
            "batch ingest",
            3_000.0,
            "events/s",
            Target::AtLeast(25_000.0),
        );
        report.add_with_target("latency", "p99", 4.2, "ms", Target::AtMost(5.0));
        report.add("floor", "sled", 90_000.0, "events/s");
        let table = report.table();
        let row = |name: &str| table.lines().find(|l| l.contains(name)).expect("row");
        assert!(row("batch ingest").contains("≥ 25,000 events/s"), "{table}");
        assert!(row("batch ingest").ends_with("| MISSED"), "{table}");
        assert!(row("p99").contains("≤ 5 ms"), "{table}");
        assert!(row("p99").ends_with("| met"), "{table}");
        assert!(row("sled").ends_with("events/s"), "{table}");
        assert_eq!(report.missed(), 1);
        let json = report.to_json(json!({}));
        assert_eq!(json["figures"][0]["met"], false);
        assert_eq!(json["figures"][2]["target"], Value::Null);
    }
}
