//! The utilisation chart, drawn with plotters' SVG backend: one horizontal bar per
//! instrument (German names), the corridor's 70 % and 120 % as dashed lines.

use plotters::prelude::*;

/// `bars`: (label, take-up in percent).
pub fn utilisation_svg(year: i32, bars: &[(String, f64)]) -> Result<String, String> {
    let mut svg = String::new();
    let height = 140 + 34 * bars.len().max(1) as u32;
    {
        let root = SVGBackend::with_string(&mut svg, (1100, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let max_x = bars.iter().map(|b| b.1).fold(130.0_f64, f64::max).ceil() + 10.0;
        let n = bars.len().max(1) as i32;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("Auslastung der Instrumente {year} (Korridor 70–120 %)"),
                ("sans-serif", 22),
            )
            .margin(16)
            .x_label_area_size(40)
            .y_label_area_size(430)
            .build_cartesian_2d(0.0..max_x, (0..n).into_segmented())
            .map_err(|e| e.to_string())?;
        let labels: Vec<String> = bars.iter().map(|b| b.0.clone()).collect();
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
                    RGBColor(214, 96, 77)
                } else if *pct > 120.0 {
                    RGBColor(244, 165, 130)
                } else {
                    RGBColor(67, 147, 195)
                };
                let mut bar = Rectangle::new(
                    [(0.0, SegmentValue::Exact(y)), (*pct, SegmentValue::Exact(y + 1))],
                    color.filled(),
                );
                bar.set_margin(5, 5, 0, 0);
                bar
            }))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(bars.iter().enumerate().map(|(i, (_, pct))| {
                let y = n - 1 - i as i32;
                Text::new(
                    format!("{pct:.0} %"),
                    (pct + 1.0, SegmentValue::CenterOf(y)),
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
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}
