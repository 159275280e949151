//! Dates from Unix time, for the timestamps the agent writes (syslog
//! lines) and the collector prints (ISO 8601): one conversion, no libc
//! (its localtime and gmtime link musl's time-zone code, ~6 KB on mips).

/// A date and time of day in the proleptic Gregorian calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime {
    pub year: i32,
    /// 1 for January.
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
}

impl DateTime {
    /// The date and time `seconds` after 1970-01-01 00:00:00 (in whatever
    /// zone `seconds` counts: UTC for Unix time).
    pub fn from_unix(seconds: i64) -> DateTime {
        let (days, of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
        // 32-bit arithmetic from here (64-bit division is a library call on
        // 32-bit routers); days within ±2^30 are ±2.9 million years.
        let days = days.clamp(-(1 << 30), 1 << 30) as i32;
        let of_day = of_day as i32;
        // Days to a date (H. Hinnant, "chrono-compatible low-level date
        // algorithms"): years counted from March, so that the leap day is
        // the last of a 400-year era's years.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let of_era = z - era * 146_097;
        let year_of_era = (of_era - of_era / 1460 + of_era / 36_524 - of_era / 146_096) / 365;
        let day_of_year = of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let march_month = (5 * day_of_year + 2) / 153;
        let day = day_of_year - (153 * march_month + 2) / 5 + 1;
        let month = if march_month < 10 {
            march_month + 3
        } else {
            march_month - 9
        };
        DateTime {
            year: year_of_era + era * 400 + i32::from(month <= 2),
            month: month as u8,
            day: day as u8,
            hour: (of_day / 3600) as u8,
            minute: (of_day / 60 % 60) as u8,
            second: (of_day % 60) as u8,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_follow_the_calendar() {
        let date = |s| {
            let t = DateTime::from_unix(s);
            (t.year, t.month, t.day, t.hour, t.minute, t.second)
        };
        assert_eq!(date(0), (1970, 1, 1, 0, 0, 0));
        assert_eq!(date(-1), (1969, 12, 31, 23, 59, 59));
        assert_eq!(date(951_782_400), (2000, 2, 29, 0, 0, 0)); // a leap year
        assert_eq!(date(4_107_542_399), (2100, 2, 28, 23, 59, 59)); // not one
        assert_eq!(date(4_107_542_400), (2100, 3, 1, 0, 0, 0));
        assert_eq!(date(1_764_912_896), (2025, 12, 5, 5, 34, 56));
        // Far out of range: the last (first) day it counts, not an overflow.
        let day = |s| {
            let d = date(s);
            (d.0, d.1, d.2)
        };
        assert_eq!(day(i64::MAX), day((1 << 30) * 86_400));
        assert_eq!(day(i64::MIN), day(-(1 << 30) * 86_400));
    }

    #[test]
    // The libc crate marks musl's 32-bit time_t deprecated (it will follow
    // musl to 64 bits); the test takes whichever width it has.
    #[allow(deprecated)]
    fn dates_agree_with_libc() {
        // gmtime_r as the oracle, over four centuries either side of 1970
        // in strides that hit every month, day and time of day (where
        // time_t has 32 bits, 1901 to 2038).
        const END: i64 = if std::mem::size_of::<libc::time_t>() == 4 {
            i32::MAX as i64
        } else {
            12_622_780_800
        };
        let mut s = -END;
        while s < END {
            // SAFETY: all zeros is a valid `struct tm`.
            let mut tm: libc::tm = unsafe { std::mem::zeroed() };
            let t = s as libc::time_t;
            // SAFETY: `t` and `tm` are valid for the call to read and write.
            let converted = unsafe { libc::gmtime_r(&t, &mut tm) };
            assert!(!converted.is_null());
            let ours = DateTime::from_unix(s);
            let theirs = (
                tm.tm_year + 1900,
                tm.tm_mon + 1,
                tm.tm_mday,
                tm.tm_hour,
                tm.tm_min,
                tm.tm_sec,
            );
            let ours_fields = (
                ours.year,
                i32::from(ours.month),
                i32::from(ours.day),
                i32::from(ours.hour),
                i32::from(ours.minute),
                i32::from(ours.second),
            );
            assert_eq!(ours_fields, theirs, "at {s}");
            s += 86_400 * 3 + 3_601 + 7;
        }
    }
}
