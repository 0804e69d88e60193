//! Argument parsers shared by the commands: frame sizes and frame rates.

pub fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s.split_once('x').ok_or("expected WIDTHxHEIGHT, e.g. 1920x1080")?;
    let parse = |v: &str| v.parse::<u32>().ok().filter(|n| (1..=16384).contains(n));
    match (parse(w), parse(h)) {
        (Some(w), Some(h)) => Ok((w, h)),
        _ => Err("width and height must be 1..=16384".into()),
    }
}

pub fn parse_fps(s: &str) -> Result<(u32, u32), String> {
    let bad = || format!("`{s}` is not a frame rate like 30, 59.94 or 30000/1001");
    if let Some((n, d)) = s.split_once('/') {
        let (n, d) = (n.parse::<u32>().map_err(|_| bad())?, d.parse::<u32>().map_err(|_| bad())?);
        return if n > 0 && d > 0 { Ok((n, d)) } else { Err(bad()) };
    }
    let f: f64 = s.parse().map_err(|_| bad())?;
    if !(f > 0.0 && f <= 1000.0) {
        return Err(bad());
    }
    if (f - f.round()).abs() < 1e-9 { Ok((f as u32, 1)) } else { Ok(((f * 1001.0 / 1000.0).round() as u32 * 1000, 1001)) }
}
