//! The DIMACS minimum-cost flow format: comments (every line that starts with `c`, as
//! `cfoo` or a bare `c`), one `p min NODES ARCS` line,
//! `n ID FLOW` node lines (supply positive, demand negative), `a FROM TO LOW CAP COST`
//! arc lines. Nodes are numbered from 1.

use crate::flow::{ArcSpec, Network};

/// A parse error naming the line (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

fn err(line: usize, message: impl Into<String>) -> ParseError {
    ParseError {
        line,
        message: message.into(),
    }
}

fn number<T: std::str::FromStr>(line: usize, what: &str, s: Option<&str>) -> Result<T, ParseError> {
    let s = s.ok_or_else(|| err(line, format!("missing {what}")))?;
    s.parse()
        .map_err(|_| err(line, format!("{what} is not a valid integer: {s:?}")))
}

pub fn parse(text: &str) -> Result<Network, ParseError> {
    let mut net: Option<Network> = None;
    let mut declared_arcs = 0usize;
    let mut last_line = 0;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        last_line = line;
        // a comment is any line starting with `c`, with or without a space after it
        if raw.trim_start().starts_with('c') {
            continue;
        }
        let mut parts = raw.split_whitespace();
        let Some(kind) = parts.next() else { continue };
        match kind {
            "p" => {
                if net.is_some() {
                    return Err(err(line, "a second problem line"));
                }
                if parts.next() != Some("min") {
                    return Err(err(line, "expected `p min NODES ARCS`"));
                }
                let nodes: usize = number(line, "node count", parts.next())?;
                declared_arcs = number(line, "arc count", parts.next())?;
                if nodes > 50_000_000 || declared_arcs > 500_000_000 {
                    return Err(err(line, "problem too large"));
                }
                let mut n = Network::new(nodes);
                n.arcs.reserve(declared_arcs);
                net = Some(n);
            }
            "n" => {
                let n = net
                    .as_mut()
                    .ok_or_else(|| err(line, "node line before the problem line"))?;
                let id: usize = number(line, "node id", parts.next())?;
                let flow: i64 = number(line, "supply", parts.next())?;
                if id == 0 || id > n.nodes {
                    return Err(err(line, format!("node {id} outside 1..={}", n.nodes)));
                }
                n.supply[id - 1] = n.supply[id - 1]
                    .checked_add(flow)
                    .ok_or_else(|| err(line, "supply overflows"))?;
            }
            "a" => {
                let n = net
                    .as_mut()
                    .ok_or_else(|| err(line, "arc line before the problem line"))?;
                let from: usize = number(line, "tail node", parts.next())?;
                let to: usize = number(line, "head node", parts.next())?;
                let lower: i64 = number(line, "lower bound", parts.next())?;
                let capacity: i64 = number(line, "capacity", parts.next())?;
                let cost: i64 = number(line, "cost", parts.next())?;
                for (what, id) in [("tail", from), ("head", to)] {
                    if id == 0 || id > n.nodes {
                        return Err(err(line, format!("{what} node {id} outside 1..={}", n.nodes)));
                    }
                }
                if lower < 0 || capacity < lower {
                    return Err(err(
                        line,
                        format!("bounds [{lower}, {capacity}] are not 0 ≤ low ≤ cap"),
                    ));
                }
                if cost.unsigned_abs() > 1 << 40 {
                    return Err(err(line, "cost beyond ±2^40"));
                }
                n.arcs.push(ArcSpec {
                    from: from - 1,
                    to: to - 1,
                    lower,
                    capacity,
                    cost,
                });
            }
            other => return Err(err(line, format!("unknown line type {other:?}"))),
        }
        if parts.next().is_some() {
            return Err(err(line, "unexpected extra fields"));
        }
    }
    let net = net.ok_or_else(|| err(last_line.max(1), "no `p min` problem line"))?;
    if net.arcs.len() != declared_arcs {
        return Err(err(
            last_line,
            format!(
                "the problem line declares {declared_arcs} arcs, the file has {}",
                net.arcs.len()
            ),
        ));
    }
    Ok(net)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_names_bad_lines() {
        let ok = "c example\ncfoo\nc\np min 3 2\nn 1 4\n  cbar baz\nn 3 -4\na 1 2 0 4 1\na 2 3 0 5 2\n";
        let net = parse(ok).unwrap();
        assert_eq!(net.nodes, 3);
        assert_eq!(net.supply, vec![4, 0, -4]);
        assert_eq!(net.arcs.len(), 2);
        for (text, line) in [
            ("p min 2 1\na 1 3 0 1 1\n", 2),
            ("p min 2 1\na 1 2 0 x 1\n", 2),
            ("a 1 2 0 1 1\n", 1),
            ("p max 2 1\n", 1),
            ("p min 2 2\na 1 2 0 1 1\n", 2),
            ("p min 2 1\nq 1\n", 2),
            ("p min 2 1\na 1 2 5 1 1\n", 2),
            ("c only\n", 1),
            ("p min 2 1\nn 0 1\n", 2),
            ("p min 2 1\na 1 2 0 1 1 9\n", 2),
        ] {
            let e = parse(text).unwrap_err();
            assert_eq!(e.line, line, "{text:?}: {e}");
        }
    }
}
