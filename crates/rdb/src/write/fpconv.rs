//! Score text as Redis 7.2+ and Valkey write it into a digest: the
//! `fpconv_dtoa` formatter (Grisu2, after Florian Loitsch's "Printing
//! Floating-Point Numbers Quickly and Accurately with Integers", as
//! packaged by the MIT-licensed `fpconv` that those servers vendor in
//! `deps/fpconv`).
//!
//! Grisu2 is fast but not always shortest: it stops at the first digit
//! string inside a slightly narrowed rounding interval, so it can print 17
//! digits where 16 round-trip (`6.537325396921406e+5`). Its layout rules
//! are its own as well: no `e` below 10^21-ish for integers but a switch to
//! scientific notation driven by the digit count, exponents without
//! padding (`1e+5`, `1e-7`), `inf`, `nan`, `-0`. Rust's `{}` and ryu agree
//! with neither, so this module redoes the computation step by step with
//! the same 64-bit arithmetic, and the corpus digests check it against real
//! servers (`tests/corpus.rs`). docs/format.md, "Digests".

/// A float as `f * 2^e`, the "do-it-yourself floating point" of Grisu.
#[derive(Clone, Copy, Debug)]
struct Diy {
    f: u64,
    e: i32,
}

const FRACTION_MASK: u64 = 0x000F_FFFF_FFFF_FFFF;
const EXPONENT_MASK: u64 = 0x7FF0_0000_0000_0000;
const HIDDEN_BIT: u64 = 0x0010_0000_0000_0000;
const SIGN_MASK: u64 = 0x8000_0000_0000_0000;
/// Exponent bias plus the 52 fraction bits: `value = f * 2^(exp - BIAS)`.
const BIAS: i32 = 1023 + 52;

/// The cached powers: 10^k for k = -348, -340, …, 340, normalized to 64
/// bits and rounded to nearest; made by `scripts/pow10-table.py`.
const FIRST_POWER: i32 = -348;
const POWER_STEP: i32 = 8;
#[rustfmt::skip]
const POWERS: [(u64, i32); 87] = [
    (18054884314459144840, -1220), (13451937075301367670, -1193),
    (10022474136428063862, -1166), (14934650266808366570, -1140),
    (11127181549972568877, -1113), (16580792590934885855, -1087),
    (12353653155963782858, -1060), (18408377700990114895, -1034),
    (13715310171984221708, -1007), (10218702384817765436, -980),
    (15227053142812498563, -954), (11345038669416679861, -927),
    (16905424996341287883, -901), (12595523146049147757, -874),
    (9384396036005875287, -847), (13983839803942852151, -821),
    (10418772551374772303, -794), (15525180923007089351, -768),
    (11567161174868858868, -741), (17236413322193710309, -715),
    (12842128665889583758, -688), (9568131466127621947, -661),
    (14257626930069360058, -635), (10622759856335341974, -608),
    (15829145694278690180, -582), (11793632577567316726, -555),
    (17573882009934360870, -529), (13093562431584567480, -502),
    (9755464219737475723, -475), (14536774485912137811, -449),
    (10830740992659433045, -422), (16139061738043178685, -396),
    (12024538023802026127, -369), (17917957937422433684, -343),
    (13349918974505688015, -316), (9946464728195732843, -289),
    (14821387422376473014, -263), (11042794154864902060, -236),
    (16455045573212060422, -210), (12259964326927110867, -183),
    (18268770466636286478, -157), (13611294676837538539, -130),
    (10141204801825835212, -103), (15111572745182864684, -77),
    (11258999068426240000, -50), (16777216000000000000, -24),
    (12500000000000000000, 3), (9313225746154785156, 30),
    (13877787807814456755, 56), (10339757656912845936, 83),
    (15407439555097886824, 109), (11479437019748901445, 136),
    (17105694144590052135, 162), (12744735289059618216, 189),
    (9495567745759798747, 216), (14149498560666738074, 242),
    (10542197943230523224, 269), (15709099088952724970, 295),
    (11704190886730495818, 322), (17440603504673385349, 348),
    (12994262207056124023, 375), (9681479787123295682, 402),
    (14426529090290212157, 428), (10748601772107342003, 455),
    (16016664761464807395, 481), (11933345169920330789, 508),
    (17782069995880619868, 534), (13248674568444952270, 561),
    (9871031767461413346, 588), (14708983551653345445, 614),
    (10959046745042015199, 641), (16330252207878254650, 667),
    (12166986024289022870, 694), (18130221999122236476, 720),
    (13508068024458167312, 747), (10064294952495520794, 774),
    (14996968138956309548, 800), (11173611982879273257, 827),
    (16649979327439178909, 853), (12405201291620119593, 880),
    (9242595204427927429, 907), (13772540099066387757, 933),
    (10261342003245940623, 960), (15290591125556738113, 986),
    (11392378155556871081, 1013), (16975966327722178521, 1039),
    (12648080533535911531, 1066),
];

/// The window the scaled exponent must land in, so that the integral part
/// of the scaled value fits 32 bits and the fraction keeps enough bits.
const TARGET_MIN: i32 = -60;
const TARGET_MAX: i32 = -32;

/// Powers of ten from 10^19 down to 10^0, indexed as the digit loop walks
/// them.
const TENS: [u64; 20] = {
    let mut t = [1u64; 20];
    let mut i = 19;
    while i > 0 {
        t[i - 1] = t[i] * 10;
        i -= 1;
    }
    t
};

fn split(d: f64) -> Diy {
    let bits = d.to_bits();
    let exp = ((bits & EXPONENT_MASK) >> 52) as i32;
    let frac = bits & FRACTION_MASK;
    if exp != 0 {
        Diy {
            f: frac + HIDDEN_BIT,
            e: exp - BIAS,
        }
    } else {
        // Subnormal: no hidden bit, the smallest exponent.
        Diy {
            f: frac,
            e: 1 - BIAS,
        }
    }
}

/// Shifts `x` (not zero) until its top bit is set.
fn normalized(mut x: Diy) -> Diy {
    while x.f & HIDDEN_BIT == 0 {
        x.f <<= 1;
        x.e -= 1;
    }
    Diy {
        f: x.f << 11,
        e: x.e - 11,
    }
}

/// The midpoints to the neighbouring doubles, `(lower, upper)`, on the
/// upper one's (normalized) exponent. The gap below is half as wide when
/// the fraction is a power of two (the exponent steps down there).
fn boundaries(x: Diy) -> (Diy, Diy) {
    let mut up = Diy {
        f: (x.f << 1) + 1,
        e: x.e - 1,
    };
    while up.f & (HIDDEN_BIT << 1) == 0 {
        up.f <<= 1;
        up.e -= 1;
    }
    up.f <<= 10;
    up.e -= 10;
    let shift = if x.f == HIDDEN_BIT { 2 } else { 1 };
    let low_e = x.e - shift;
    let low = Diy {
        f: ((x.f << shift) - 1) << (low_e - up.e),
        e: up.e,
    };
    (low, up)
}

/// The product's upper 64 bits, rounded half up.
fn times(a: Diy, b: Diy) -> Diy {
    let p = a.f as u128 * b.f as u128 + (1u128 << 63);
    Diy {
        f: (p >> 64) as u64,
        e: a.e + b.e + 64,
    }
}

/// The cached power that scales a number with exponent `e` into the
/// target window, and its decimal exponent. The search starts from an
/// estimate and steps, as the reference does: where two powers both fit,
/// the one found first is the one whose digits the servers print.
fn cached_power(e: i32) -> (Diy, i32) {
    let estimate = (-(e + 87) as f64 * 0.301_029_995_663_981_14) as i32;
    let mut i = ((estimate - FIRST_POWER) / POWER_STEP) as usize;
    loop {
        let scaled = e + POWERS[i].1 + 64;
        if scaled < TARGET_MIN {
            i += 1;
        } else if scaled > TARGET_MAX {
            i -= 1;
        } else {
            let (f, e) = POWERS[i];
            return (Diy { f, e }, FIRST_POWER + i as i32 * POWER_STEP);
        }
    }
}

/// Moves the last digit down while that brings the digits closer to the
/// exact value and stays inside the interval (Grisu's "weed" step).
fn round_last(digits: &mut [u8], delta: u64, mut rest: u64, ten_kappa: u64, dist: u64) {
    let Some(last) = digits.last_mut() else {
        return;
    };
    while rest < dist
        && delta - rest >= ten_kappa
        && (rest.wrapping_add(ten_kappa) < dist
            || dist - rest > rest.wrapping_add(ten_kappa).wrapping_sub(dist))
    {
        *last -= 1;
        rest = rest.wrapping_add(ten_kappa);
    }
}

/// Generates the digits of `upper`, stopping as soon as what is left is
/// below the interval's width; returns the digit count, and adds the
/// number of digits dropped to `k`.
fn digits_of(w: Diy, up: Diy, low: Diy, out: &mut [u8; 18], k: &mut i32) -> usize {
    let dist = up.f - w.f;
    let mut delta = up.f - low.f;
    let shift = (-up.e) as u32;
    let one = 1u64 << shift;
    let mut int_part = up.f >> shift;
    let mut frac_part = up.f & (one - 1);
    let mut n = 0usize;
    let mut kappa = 10i32;
    // The integral part, ten digit positions from 10^9 down to 10^0.
    for &div in &TENS[10..] {
        let digit = int_part / div;
        if digit != 0 || n != 0 {
            out[n] = b'0' + digit as u8;
            n += 1;
        }
        int_part -= digit * div;
        kappa -= 1;
        let rest = (int_part << shift).wrapping_add(frac_part);
        if rest <= delta {
            *k += kappa;
            round_last(&mut out[..n], delta, rest, div << shift, dist);
            return n;
        }
    }
    // The fraction, one digit at a time.
    let mut unit = 18usize;
    loop {
        frac_part = frac_part.wrapping_mul(10);
        delta = delta.wrapping_mul(10);
        kappa -= 1;
        let digit = frac_part >> shift;
        if digit != 0 || n != 0 {
            out[n] = b'0' + digit as u8;
            n += 1;
        }
        frac_part &= one - 1;
        if frac_part < delta {
            *k += kappa;
            round_last(
                &mut out[..n],
                delta,
                frac_part,
                one,
                dist.wrapping_mul(TENS[unit]),
            );
            return n;
        }
        unit = unit.saturating_sub(1);
    }
}

/// Grisu2 of a positive, finite, non-zero `d`: its digits and the decimal
/// exponent of the last one.
fn grisu2(d: f64, out: &mut [u8; 18]) -> (usize, i32) {
    let x = split(d);
    let (low, up) = boundaries(x);
    let w = normalized(x);
    let (c, k) = cached_power(up.e);
    let w = times(w, c);
    let mut up = times(up, c);
    let mut low = times(low, c);
    low.f += 1;
    up.f -= 1;
    let mut exp10 = -k;
    let n = digits_of(w, up, low, out, &mut exp10);
    (n, exp10)
}

/// Lays out `digits` × 10^`k` as fpconv does; `neg` only shortens very
/// long scientific forms by one digit.
fn lay_out(digits: &[u8], k: i32, neg: bool, out: &mut Vec<u8>) {
    let n = digits.len() as i32;
    let exp = (k + n - 1).abs();
    if k >= 0 && exp < n + 7 {
        // An integer: the digits and k zeros.
        out.extend_from_slice(digits);
        out.resize(out.len() + k as usize, b'0');
        return;
    }
    if k < 0 && (k > -7 || exp < 4) {
        let point = n + k;
        if point <= 0 {
            out.extend_from_slice(b"0.");
            out.resize(out.len() + (-point) as usize, b'0');
            out.extend_from_slice(digits);
        } else {
            let (int, frac) = digits.split_at(point as usize);
            out.extend_from_slice(int);
            out.push(b'.');
            out.extend_from_slice(frac);
        }
        return;
    }
    // Scientific. The exponent's magnitude was taken from all the digits,
    // its sign from the kept ones.
    let kept = digits.len().min(18 - neg as usize);
    out.push(digits[0]);
    if kept > 1 {
        out.push(b'.');
        out.extend_from_slice(&digits[1..kept]);
    }
    out.push(b'e');
    out.push(if k + kept as i32 - 1 < 0 { b'-' } else { b'+' });
    let mut exp = exp;
    let mut hundreds = 0;
    if exp > 99 {
        hundreds = exp / 100;
        out.push(b'0' + hundreds as u8);
        exp -= hundreds * 100;
    }
    if exp > 9 {
        let tens = exp / 10;
        out.push(b'0' + tens as u8);
        exp -= tens * 10;
    } else if hundreds != 0 {
        out.push(b'0');
    }
    out.push(b'0' + (exp % 10) as u8);
}

/// Appends `d` as `fpconv_dtoa` writes it.
pub fn write(d: f64, out: &mut Vec<u8>) {
    let bits = d.to_bits();
    let neg = bits & SIGN_MASK != 0;
    if neg {
        out.push(b'-');
    }
    if d == 0.0 {
        out.push(b'0');
        return;
    }
    if bits & EXPONENT_MASK == EXPONENT_MASK {
        out.extend_from_slice(if bits & FRACTION_MASK != 0 {
            b"nan"
        } else {
            b"inf"
        });
        return;
    }
    let mut digits = [0u8; 18];
    let (n, k) = grisu2(d.abs(), &mut digits);
    lay_out(&digits[..n], k, neg, out);
}

#[cfg(test)]
mod tests {
    use super::write;

    fn s(d: f64) -> String {
        let mut v = Vec::new();
        write(d, &mut v);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn layouts() {
        // What the C fpconv that Redis 7.2.6 builds prints for each (it
        // was compared outside the project on 721,574 values: random bit
        // patterns, short decimals, powers of 2 and 10, subnormals); the
        // corpus digests check the formatter against real servers.
        assert_eq!(s(0.0), "0");
        assert_eq!(s(-0.0), "-0");
        assert_eq!(s(f64::INFINITY), "inf");
        assert_eq!(s(f64::NEG_INFINITY), "-inf");
        assert_eq!(s(f64::NAN), "nan");
        assert_eq!(s(1.0), "1");
        assert_eq!(s(-1.5), "-1.5");
        assert_eq!(s(0.1), "0.1");
        assert_eq!(s(100.0), "100");
        assert_eq!(s(1e7), "10000000");
        assert_eq!(s(1e21), "1e+21");
        assert_eq!(s(123456789012.0), "123456789012");
        assert_eq!(s(0.000001), "0.000001");
        assert_eq!(s(0.0000001), "1e-7");
        assert_eq!(s(1.5e300), "1.5e+300");
        assert_eq!(s(5e-324), "5e-324");
        assert_eq!(s(f64::MAX), "1.7976931348623157e+308");
        assert_eq!(s(653732.5396921406), "6.537325396921406e+5");
    }
}
