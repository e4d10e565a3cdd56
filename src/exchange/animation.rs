//! Animated multi-part sequences: an animated GIF, a self-contained HTML
//! page, and playback in the terminal.

use std::fmt::Write as _;
use std::time::Duration;

use super::error::{ExchangeError, Result};
use super::qr_code::QrMatrix;
use super::qr_render::{
    encode_png, render_luma, render_terminal, TerminalColors, STANDARD_QUIET_ZONE,
};

/// Pixels per module so that the code is about `target_px` wide (at least 3).
pub fn module_px_for(m: &QrMatrix, target_px: u32) -> u32 {
    let units = (m.size() + 2 * STANDARD_QUIET_ZONE) as u32;
    (target_px / units.max(1)).max(3)
}

/// An animated GIF cycling through `frames` at `fps`, looping forever.
/// Two-colour indexed frames: small files, no quantisation.
pub fn render_gif(frames: &[QrMatrix], fps: f32, module_px: u32) -> Result<Vec<u8>> {
    // Part numbers change length along the sequence (9 -> 10 -> 100), so
    // a few frames may need a larger version: every frame goes on a canvas
    // the size of the largest, centred.
    let units = frames
        .iter()
        .map(|m| m.size() + 2 * STANDARD_QUIET_ZONE)
        .max()
        .ok_or_else(|| ExchangeError::QrEncode {
            reason: "no frames to animate".into(),
        })?;
    let side = units as u32 * module_px;
    let side16 = u16::try_from(side).map_err(|_| ExchangeError::QrEncode {
        reason: format!("a {side}-pixel frame is too large for GIF; lower the module size"),
    })?;
    let delay_cs = (100.0 / fps.max(0.1)).round().clamp(2.0, 6000.0) as u16;
    let mut out = Vec::new();
    {
        let palette = [0u8, 0, 0, 255, 255, 255];
        let mut enc = gif::Encoder::new(&mut out, side16, side16, &palette).map_err(|e| {
            ExchangeError::QrEncode {
                reason: format!("GIF: {e}"),
            }
        })?;
        enc.set_repeat(gif::Repeat::Infinite)
            .map_err(|e| ExchangeError::QrEncode {
                reason: format!("GIF: {e}"),
            })?;
        for m in frames {
            let code = render_luma(m, module_px, STANDARD_QUIET_ZONE);
            let mut img = image::GrayImage::from_pixel(side, side, image::Luma([255]));
            let offset = i64::from((side - code.width()) / 2);
            image::imageops::replace(&mut img, &code, offset, offset);
            let indices: Vec<u8> = img.as_raw().iter().map(|&v| u8::from(v > 127)).collect();
            let mut frame = gif::Frame::from_indexed_pixels(side16, side16, indices, None);
            frame.delay = delay_cs;
            enc.write_frame(&frame)
                .map_err(|e| ExchangeError::QrEncode {
                    reason: format!("GIF: {e}"),
                })?;
        }
    }
    Ok(out)
}

/// A self-contained HTML page that plays the frames (embedded as PNG data
/// URIs) with controls for speed and pause. No network access needed.
pub fn render_html(frames: &[QrMatrix], fps: f32, module_px: u32, title: &str) -> Result<String> {
    let mut uris = Vec::with_capacity(frames.len());
    for m in frames {
        let png = encode_png(&render_luma(m, module_px, STANDARD_QUIET_ZONE))?;
        uris.push(format!(
            "\"data:image/png;base64,{}\"",
            data_encoding::BASE64.encode(&png)
        ));
    }
    let title = title
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let mut page = String::new();
    let _ = write!(
        page,
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{background:#fff;color:#000;font-family:sans-serif;text-align:center;margin:1em}}
img{{image-rendering:pixelated;width:min(90vmin,720px);height:auto;border:0}}
.c{{margin:.6em}}</style></head>
<body><h1 style="font-size:1.1em">{title}</h1>
<img id="qr" alt="QR frame">
<div class="c"><span id="pos"></span></div>
<div class="c"><button id="pp">pause</button>
<label>frames/s <input id="fps" type="range" min="1" max="20" step="1" value="{fps}"><span id="fv">{fps}</span></label></div>
<p style="font-size:.85em">Point the receiving camera at the code until it reports completion; every frame carries fresh data, so missed frames do not matter.</p>
<script>
const F=[{frames}];
let i=0,t=null,fps={fps};
const img=document.getElementById('qr'),pos=document.getElementById('pos');
function show(){{img.src=F[i];pos.textContent='frame '+(i+1)+' of '+F.length;i=(i+1)%F.length;}}
function start(){{if(t)clearInterval(t);t=setInterval(show,1000/fps);}}
document.getElementById('fps').oninput=e=>{{fps=+e.target.value;document.getElementById('fv').textContent=fps;if(t)start();}};
document.getElementById('pp').onclick=e=>{{if(t){{clearInterval(t);t=null;e.target.textContent='play';}}else{{start();e.target.textContent='pause';}}}};
show();start();
</script></body></html>
"#,
        frames = uris.join(",\n"),
        fps = fps.round().clamp(1.0, 20.0) as u32,
    );
    Ok(page)
}

/// Plays frames in the terminal at `fps`, redrawing in place, `loops`
/// times over. Each frame is preceded by its caption line.
pub fn play_terminal(
    frames: &[(QrMatrix, String)],
    fps: f32,
    quiet: usize,
    colors: TerminalColors,
    loops: usize,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let delay = Duration::from_secs_f32(1.0 / fps.max(0.1));
    let mut lines_up = 0usize;
    for _ in 0..loops.max(1) {
        for (m, caption) in frames {
            let text = render_terminal(m, quiet, colors);
            if lines_up > 0 {
                write!(out, "\x1b[{lines_up}A")?;
            }
            writeln!(out, "\x1b[2K{caption}")?;
            out.write_all(text.as_bytes())?;
            out.flush()?;
            lines_up = text.lines().count() + 1;
            std::thread::sleep(delay);
        }
    }
    Ok(())
}
