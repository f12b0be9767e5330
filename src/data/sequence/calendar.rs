//! The calendar's hint at a series' season: the dates of its time column (`--time COL`, or
//! the first other column whose first cell is a date), whose median spacing names the
//! period: hourly data repeats daily (24), daily data weekly (7), weekly data yearly (52),
//! monthly data yearly (12), quarterly data yearly (4). Yearly or irregular dates give none.

use std::path::Path;

use crate::error::{Error, Result};

/// Seconds in a day.
const DAY: i64 = 86_400;

/// The period the dates' median spacing implies, and its name.
pub fn period(times: &[i64]) -> Option<(usize, &'static str)> {
    let mut steps: Vec<i64> = times.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
    if steps.is_empty() {
        return None;
    }
    steps.sort_unstable();
    let step = steps[steps.len() / 2];
    let near = |target: i64, slack: i64| (step - target).abs() <= slack;
    match () {
        _ if near(3_600, 360) => Some((24, "hourly")),
        _ if near(DAY, DAY / 10) => Some((7, "daily")),
        _ if near(7 * DAY, DAY / 2) => Some((52, "weekly")),
        _ if (28 * DAY..=31 * DAY).contains(&step) => Some((12, "monthly")),
        _ if (89 * DAY..=92 * DAY).contains(&step) => Some((4, "quarterly")),
        _ => None,
    }
}

/// Seconds since 1970-01-01 of `YYYY-MM-DD`, `YYYY/MM/DD`, `YYYY-MM` (the month's first
/// day), optionally followed by `T` or a space and `HH:MM[:SS]`; `None` for anything else.
pub fn parse(text: &str) -> Option<i64> {
    let (date, time) = match text.find(['T', ' ']) {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text, None),
    };
    let parts: Vec<&str> = date.split(['-', '/']).collect();
    let number = |s: &str, digits: std::ops::RangeInclusive<usize>| {
        let ok = digits.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
        ok.then(|| s.parse::<i64>().ok()).flatten()
    };
    let (year, month, day) = match parts[..] {
        [y, m] => (number(y, 4..=4)?, number(m, 1..=2)?, 1),
        [y, m, d] => (number(y, 4..=4)?, number(m, 1..=2)?, number(d, 1..=2)?),
        _ => return None,
    };
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let mut seconds = days_from_civil(year, month, day) * DAY;
    if let Some(time) = time {
        let hms: Vec<i64> = (time.split(':').map(|p| number(p, 2..=2))).collect::<Option<_>>()?;
        let (h, m, s) = match hms[..] {
            [h, m] => (h, m, 0),
            [h, m, s] => (h, m, s),
            _ => return None,
        };
        if h > 23 || m > 59 || s > 60 {
            return None;
        }
        seconds += h * 3_600 + m * 60 + s;
    }
    Some(seconds)
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The time column of the series in `path` and its period: `column` when given (every cell
/// must be a date), else the first column outside `series` whose first cell is one (and all
/// the others, else no hint). `None` when the dates imply no period.
pub fn hint(
    path: &Path,
    column: Option<&str>,
    series: &[String],
    delimiter: Option<char>,
) -> Result<Option<(String, usize, &'static str)>> {
    let name = match column {
        Some(name) => name.to_string(),
        None => {
            let (header, first) = crate::data::csv::read_first_row(path, delimiter)?;
            let found = header
                .iter()
                .zip(&first)
                .find(|(name, cell)| !series.contains(name) && parse(cell).is_some());
            match found {
                Some((name, _)) => name.clone(),
                None => return Ok(None),
            }
        }
    };
    let mut times = Vec::new();
    for (line, cell) in crate::data::csv::read_cells(path, &name, delimiter)? {
        match parse(&cell) {
            Some(t) => times.push(t),
            None if column.is_none() => return Ok(None),
            None => {
                return Err(Error::Data {
                    path: path.to_owned(),
                    line: Some(line),
                    column: Some(name),
                    message: format!(
                        "`{cell}` is not a date (YYYY-MM-DD, YYYY/MM/DD or YYYY-MM, optionally \
                         with a time HH:MM[:SS])"
                    ),
                });
            }
        }
    }
    Ok(period(&times).map(|(p, kind)| (name, p, kind)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_to_days_and_their_spacing_names_the_period() {
        assert_eq!(parse("1970-01-01"), Some(0));
        assert_eq!(parse("2000-03-01"), Some(11_017 * DAY));
        assert_eq!(parse("2000/3/1"), parse("2000-03"));
        assert_eq!(
            parse("2024-02-29T06:30"),
            Some(parse("2024-02-29").unwrap() + 23_400)
        );
        assert_eq!(
            parse("2024-02-29 06:30:15"),
            Some(parse("2024-02-29").unwrap() + 23_415)
        );
        for bad in [
            "",
            "1949",
            "12/31/2020",
            "2020-13-01",
            "2020-01-01T25:00",
            "20-01-01",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        let every = |start: &str, step: i64, n: i64| -> Vec<i64> {
            (0..n).map(|i| parse(start).unwrap() + i * step).collect()
        };
        assert_eq!(period(&every("2020-01-01", 3_600, 50)).unwrap().0, 24);
        assert_eq!(period(&every("2020-01-01", DAY, 50)).unwrap().0, 7);
        assert_eq!(period(&every("2020-01-01", 7 * DAY, 50)).unwrap().0, 52);
        let months: Vec<i64> = (0..36)
            .map(|i| parse(&format!("{}-{:02}", 2000 + i / 12, i % 12 + 1)).unwrap())
            .collect();
        assert_eq!(period(&months), Some((12, "monthly")));
        let quarters: Vec<i64> = (0..12)
            .map(|i| parse(&format!("{}-{:02}-01", 2000 + i / 4, 3 * (i % 4) + 1)).unwrap())
            .collect();
        assert_eq!(period(&quarters), Some((4, "quarterly")));
        let years: Vec<i64> = (0..10)
            .map(|i| parse(&format!("{}-01-01", 1990 + i)).unwrap())
            .collect();
        assert_eq!(period(&years), None);
    }
}
