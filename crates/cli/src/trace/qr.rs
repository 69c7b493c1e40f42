//! The QR code of `tally trace qr`: a URI naming the chain and the
//! product, `tally://trace/<chain id>/<percent-encoded ID>`, drawn as a
//! black-on-white grayscale PNG with the four-module quiet zone scanners
//! need (ISO/IEC 18004).
//!
//! Modules are whole pixels (the image is padded to the size asked for
//! rather than scaled by a fraction), so the code stays sharp.

use std::path::Path;

use anyhow::{bail, Context as _};
use qrcode::{Color, QrCode};

/// Light modules a scanner needs around the code, on each side.
pub const QUIET_ZONE: usize = 4;
/// The largest image drawn, in pixels a side (64 MiB of pixels).
pub const MAX_SIZE: u32 = 8192;

/// What was drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Drawn {
    /// Modules a side, without the quiet zone.
    pub modules: usize,
}

/// The URI a product's code carries.
pub fn uri(chain_id: u64, product_id: &str) -> String {
    format!("tally://trace/{chain_id}/{}", percent_encode(product_id))
}

/// RFC 3986 percent-encoding: every byte but the unreserved characters,
/// so an ID with `/`, `?`, `#` or spaces stays one path segment.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Draws `data` as a `size`×`size` grayscale image (0 dark, 255 light),
/// row by row.
pub fn draw(data: &str, size: u32) -> anyhow::Result<(Vec<u8>, Drawn)> {
    let code = QrCode::new(data.as_bytes())
        .with_context(|| format!("cannot make a QR code of {} bytes", data.len()))?;
    let modules = code.width();
    let colors = code.to_colors();
    let needed = modules + 2 * QUIET_ZONE;
    if size > MAX_SIZE {
        bail!("--size {size} is too large: at most {MAX_SIZE} px");
    }
    let side = usize::try_from(size)?;
    if side < needed {
        bail!(
            "--size {size} is too small: this code has {modules} modules a side and needs \
             at least {needed} px with its quiet zone"
        );
    }
    let scale = side / needed;
    // The code in the middle; what is left over widens the quiet zone.
    let offset = (side - modules * scale) / 2;
    let mut pixels = vec![255u8; side * side];
    for (y, row) in pixels.chunks_exact_mut(side).enumerate() {
        let Some(my) = module_at(y, offset, scale, modules) else {
            continue;
        };
        for (x, px) in row.iter_mut().enumerate() {
            let Some(mx) = module_at(x, offset, scale, modules) else {
                continue;
            };
            if colors.get(my * modules + mx) == Some(&Color::Dark) {
                *px = 0;
            }
        }
    }
    Ok((pixels, Drawn { modules }))
}

/// The module a pixel coordinate falls in, if inside the code.
fn module_at(p: usize, offset: usize, scale: usize, modules: usize) -> Option<usize> {
    let m = p.checked_sub(offset)? / scale;
    (m < modules).then_some(m)
}

/// PNG bytes of a square 8-bit grayscale image.
pub fn encode_png(pixels: &[u8], size: u32) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, size, size);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().context("cannot encode the PNG")?;
    writer
        .write_image_data(pixels)
        .context("cannot encode the PNG")?;
    writer.finish().context("cannot encode the PNG")?;
    Ok(out)
}

/// Draws `data` and writes it to `out` as a PNG of `size` px a side.
pub fn write_png(data: &str, size: u32, out: &Path) -> anyhow::Result<Drawn> {
    let (pixels, drawn) = draw(data, size)?;
    let bytes = encode_png(&pixels, size)?;
    std::fs::write(out, bytes).with_context(|| format!("cannot write {}", out.display()))?;
    Ok(drawn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_become_one_path_segment() {
        assert_eq!(uri(31337, "SKU-1.a_b~"), "tally://trace/31337/SKU-1.a_b~");
        assert_eq!(
            uri(7, "lot 4/B?#é"),
            "tally://trace/7/lot%204%2FB%3F%23%C3%A9"
        );
    }

    #[test]
    fn the_code_has_a_quiet_zone_and_whole_pixel_modules() {
        let data = uri(31337, "SKU-1");
        let (pixels, drawn) = draw(&data, 200).unwrap();
        assert_eq!(pixels.len(), 200 * 200);
        let m = drawn.modules;
        assert!(
            m >= 21 && (m - 17) % 4 == 0,
            "a QR code has 17+4v modules, not {m}"
        );
        let scale = 200 / (m + 2 * QUIET_ZONE);
        let offset = (200 - m * scale) / 2;
        assert!(offset >= QUIET_ZONE * scale);
        let at = |x: usize, y: usize| pixels[y * 200 + x];
        // Light all around the code.
        for i in 0..200 {
            for j in (0..offset).chain(offset + m * scale..200) {
                assert_eq!(at(i, j), 255);
                assert_eq!(at(j, i), 255);
            }
        }
        // The top-left finder pattern: a dark ring, a light ring, a dark
        // 3x3 centre, each module `scale` pixels wide.
        let module = |mx: usize, my: usize| at(offset + mx * scale, offset + my * scale);
        assert_eq!(module(0, 0), 0);
        assert_eq!(module(6, 6), 0);
        assert_eq!(module(1, 1), 255);
        assert_eq!(module(3, 3), 0);
        assert_eq!(module(7, 7), 255);
        assert_eq!(
            at(offset + scale - 1, offset + scale - 1),
            0,
            "a module fills its pixels"
        );
    }

    #[test]
    fn sizes_must_fit_the_code() {
        let data = uri(1, "x");
        let err = draw(&data, 20).unwrap_err().to_string();
        assert!(
            err.contains("too small") && err.contains("--size 20"),
            "{err}"
        );
        assert!(draw(&data, MAX_SIZE + 1).is_err());
        // The smallest size that fits draws one pixel per module.
        let (_, drawn) = draw(&data, 400).unwrap();
        let fits = u32::try_from(drawn.modules + 2 * QUIET_ZONE).unwrap();
        let (pixels, _) = draw(&data, fits).unwrap();
        assert_eq!(pixels[QUIET_ZONE * (fits as usize + 1)], 0, "finder corner");
        assert!(draw(&data, fits - 1).is_err());
    }

    #[test]
    fn the_png_decodes_to_the_same_pixels() {
        let (pixels, _) = draw(&uri(31337, "SKU-1"), 100).unwrap();
        let bytes = encode_png(&pixels, 100).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        let decoder = png::Decoder::new(std::io::Cursor::new(&bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (100, 100));
        assert_eq!(info.color_type, png::ColorType::Grayscale);
        assert_eq!(&buf[..info.buffer_size()], &pixels[..]);
    }
}
