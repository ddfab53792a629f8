//! Charts for the insights page: inline SVG drawn on the server by the
//! `charts-rs` crate, so they need no JavaScript and pass the strict CSP
//! (plain elements with presentation attributes; no script, no style
//! attribute). The stylesheet gives their text and grid the theme's
//! colours (light, dark, print); the series colours read on both
//! backgrounds. Each chart is an image with a title and a description for
//! screen readers; its numbers are also a table beside it.

use serde_json::json;

/// How a chart draws its series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Bars up from the axis, per label.
    Bars,
    /// Bars across, one per label (long labels: reasons, events).
    Across,
    /// Lines over the labels (days).
    Lines,
}

/// One series: its name and a value per label.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub values: Vec<f64>,
}

/// A chart to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    pub shape: Shape,
    /// For screen readers: what it shows (its caption is the page's).
    pub title: String,
    pub description: String,
    pub labels: Vec<String>,
    pub series: Vec<Series>,
}

/// Mid-tone colours that keep 3:1 against the light and the dark page.
const COLOURS: [&str; 4] = ["#3B82F6", "#E8590C", "#12B886", "#A855F7"];

/// A step between grid lines that is a round number and gives about
/// five of them up to `max`.
fn nice_max(max: f64) -> (f64, u64) {
    if max <= 0.0 || !max.is_finite() {
        return (5.0, 5);
    }
    let rough = max / 5.0;
    let magnitude = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= rough)
        .unwrap_or(rough);
    // Whole numbers stay whole on the axis.
    let step = if max >= 5.0 { step.ceil() } else { step };
    let splits = (max / step).ceil().max(1.0);
    (step * splits, splits as u64)
}

/// The chart as an SVG element with `role="img"`, its title and its
/// description; `None` when the crate could not draw it (the table
/// beside it still has the numbers).
pub fn svg(chart: &Chart) -> Option<String> {
    let max = chart
        .series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .fold(0.0f64, f64::max);
    let (axis_max, splits) = nice_max(max);
    let series: Vec<serde_json::Value> = chart
        .series
        .iter()
        .map(|s| json!({"name": s.name, "data": s.values}))
        .collect();
    let rows = chart.labels.len().max(1) as f64;
    let height = match chart.shape {
        Shape::Across => (60.0 + rows * 30.0 * chart.series.len().max(1) as f64).min(900.0),
        _ => 300.0,
    };
    let mut option = json!({
        "width": 720.0,
        "height": height,
        "margin": {"left": 8.0, "top": 8.0, "right": 16.0, "bottom": 8.0},
        "legend_show": chart.series.len() > 1,
        "series_list": series,
        "x_axis_data": chart.labels,
        "series_colors": COLOURS,
        "font_family": "Roboto",
    });
    let text = match chart.shape {
        Shape::Bars => {
            option["y_axis_configs"] = json!([{
                "axis_min": 0.0, "axis_max": axis_max, "axis_split_number": splits
            }]);
            option["x_axis_label_overflow"] = json!("thin");
            charts_rs::BarChart::from_json(&option.to_string())
                .and_then(|mut c| {
                    c.base.background_color = charts_rs::Color::transparent();
                    c.svg()
                })
                .ok()?
        }
        Shape::Lines => {
            option["y_axis_configs"] = json!([{
                "axis_min": 0.0, "axis_max": axis_max, "axis_split_number": splits
            }]);
            option["x_axis_label_overflow"] = json!("thin");
            // A marker per day of 90 is noise; the table has each value.
            option["series_symbol"] = json!({"type": "none"});
            charts_rs::LineChart::from_json(&option.to_string())
                .and_then(|mut c| {
                    c.base.background_color = charts_rs::Color::transparent();
                    c.svg()
                })
                .ok()?
        }
        Shape::Across => charts_rs::HorizontalBarChart::from_json(&option.to_string())
            .and_then(|mut c| {
                c.base.background_color = charts_rs::Color::transparent();
                c.svg()
            })
            .ok()?,
    };
    let open = text.find("<svg")?;
    let close = open + text[open..].find('>')?;
    let (head, body) = text.split_at(close);
    // Drawn at 720 wide and scaled to the column: no fixed size.
    let head =
        head.replacen(" width=\"720\"", "", 1)
            .replacen(&format!(" height=\"{height}\""), "", 1);
    Some(format!(
        "{head} role=\"img\" preserveAspectRatio=\"xMinYMin meet\"><title>{}</title><desc>{}</desc>{}",
        html_escape::encode_text(&chart.title),
        html_escape::encode_text(&chart.description),
        &body[1..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(shape: Shape, label: &str) -> Chart {
        Chart {
            shape,
            title: "Days <to> deliver".into(),
            description: "Median & 90th".into(),
            labels: vec![label.into(), "DHL".into()],
            series: vec![
                Series {
                    name: "Median".into(),
                    values: vec![1.5, 2.0],
                },
                Series {
                    name: "90%".into(),
                    values: vec![3.0, 7.25],
                },
            ],
        }
    }

    #[test]
    fn every_shape_draws_an_image_with_its_words_and_no_markup_of_the_data() {
        for shape in [Shape::Bars, Shape::Across, Shape::Lines] {
            let svg = svg(&chart(shape, "<script>alert(1)</script>")).expect("drawn");
            assert!(svg.starts_with("<svg"), "{shape:?}");
            assert!(svg.contains("role=\"img\""));
            assert!(svg.contains("<title>Days &lt;to&gt; deliver</title>"));
            assert!(svg.contains("<desc>Median &amp; 90th</desc>"));
            assert!(!svg.contains("<script"), "{shape:?}: {svg}");
            assert!(!svg.contains("style="), "the CSP allows no style attribute");
            assert!(svg.trim_end().ends_with("</svg>"));
        }
    }

    #[test]
    fn axes_end_on_round_numbers() {
        assert_eq!(nice_max(0.0), (5.0, 5));
        assert_eq!(nice_max(7.0), (8.0, 4));
        assert_eq!(nice_max(42.0), (50.0, 5));
        assert_eq!(nice_max(1234.0), (1250.0, 5));
        let (max, _) = nice_max(1.3);
        assert!(max >= 1.3);
    }
}
