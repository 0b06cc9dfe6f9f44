//! The utilisation chart, drawn with plotters' SVG backend: one horizontal bar per
//! instrument (German names), the corridor of 70–120 % shaded with its bounds as dashed
//! lines, each bar's figure beside it, and a legend below the chart that says what the
//! colours and the shading mean.

use plotters::prelude::*;

const BELOW: RGBColor = RGBColor(214, 96, 77);
const WITHIN: RGBColor = RGBColor(67, 147, 195);
const ABOVE: RGBColor = RGBColor(244, 165, 130);
const CORRIDOR: RGBColor = RGBColor(220, 237, 200);
/// Height of the legend strip under the chart.
const LEGEND: u32 = 44;
/// Longest instrument name shown in full (longer ones end with `…`).
const LABEL_CHARS: usize = 58;

fn short(label: &str) -> String {
    if label.chars().count() <= LABEL_CHARS {
        label.to_string()
    } else {
        let mut s: String = label.chars().take(LABEL_CHARS - 1).collect();
        s.push('…');
        s
    }
}

/// `bars`: (label, take-up in percent).
pub fn utilisation_svg(year: i32, bars: &[(String, f64)]) -> Result<String, String> {
    let mut svg = String::new();
    let height = 140 + LEGEND + 34 * bars.len().max(1) as u32;
    {
        let root = SVGBackend::with_string(&mut svg, (1100, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let (upper, lower) = root.split_vertically(height - LEGEND);
        let max_x = bars.iter().map(|b| b.1).fold(130.0_f64, f64::max).ceil() + 10.0;
        let n = bars.len().max(1) as i32;
        let mut chart = ChartBuilder::on(&upper)
            .caption(format!("Auslastung der Instrumente {year}"), ("sans-serif", 22))
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(440)
            .build_cartesian_2d(0.0..max_x, (0..n).into_segmented())
            .map_err(|e| e.to_string())?;
        let labels: Vec<String> = bars.iter().map(|b| short(&b.0)).collect();
        // the corridor behind everything
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(70.0, SegmentValue::Exact(0)), (120.0, SegmentValue::Last)],
                CORRIDOR.filled(),
            )))
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_max_light_lines(1)
            .x_labels(8)
            .x_label_formatter(&|x| format!("{x:.0} %"))
            .x_desc("Eintritte und Reservierungen in % der geplanten Plätze")
            .y_labels(bars.len().max(1))
            .y_label_formatter(&|y| match y {
                SegmentValue::CenterOf(v) => labels.get((n - 1 - *v) as usize).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(bars.iter().enumerate().map(|(i, (_, pct))| {
                let y = n - 1 - i as i32;
                let color = if *pct < 70.0 {
                    BELOW
                } else if *pct > 120.0 {
                    ABOVE
                } else {
                    WITHIN
                };
                let mut bar = Rectangle::new(
                    [(0.0, SegmentValue::Exact(y)), (*pct, SegmentValue::Exact(y + 1))],
                    color.filled(),
                );
                bar.set_margin(6, 6, 0, 0);
                bar
            }))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(bars.iter().enumerate().map(|(i, (_, pct))| {
                let y = n - 1 - i as i32;
                Text::new(
                    format!("{pct:.0} %"),
                    (pct + 1.5, SegmentValue::CenterOf(y)),
                    ("sans-serif", 12),
                )
            }))
            .map_err(|e| e.to_string())?;
        for x in [70.0, 120.0] {
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(x, SegmentValue::Exact(0)), (x, SegmentValue::Last)],
                    6,
                    4,
                    BLACK.stroke_width(2),
                ))
                .map_err(|e| e.to_string())?;
        }
        legend(&lower)?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// The legend strip: a swatch and its meaning for each colour and the corridor.
fn legend<DB: DrawingBackend>(area: &DrawingArea<DB, plotters::coord::Shift>) -> Result<(), String> {
    let items: [(RGBColor, &str); 4] = [
        (BELOW, "unter 70 % (unterausgelastet)"),
        (WITHIN, "70–120 % (im Korridor)"),
        (ABOVE, "über 120 % (überbucht)"),
        (CORRIDOR, "Korridor der Rahmenverträge, Grenzen gestrichelt"),
    ];
    let mut x = 16;
    let y = 12;
    for (color, text) in items {
        area.draw(&Rectangle::new([(x, y), (x + 16, y + 16)], color.filled()))
            .map_err(|e| e.to_string())?;
        area.draw(&Rectangle::new([(x, y), (x + 16, y + 16)], BLACK.stroke_width(1)))
            .map_err(|e| e.to_string())?;
        area.draw(&Text::new(text, (x + 22, y + 2), ("sans-serif", 13)))
            .map_err(|e| e.to_string())?;
        // room for the text and a gap (13 px sans-serif: about 6.5 px per character)
        x += 22 + (text.chars().count() as i32 * 13) / 2 + 24;
    }
    Ok(())
}
