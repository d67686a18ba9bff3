//! The generated report.html in a real browser: printed to PDF by headless Chromium, everything
//! before the appendix fits six A4 pages, and every embedded image decodes.

use std::path::Path;
use std::process::Command;

/// Chromium as the project's tests run it (root, no sandbox, no network chatter).
fn chromium(args: &[&str]) -> std::process::Output {
    let profile = tempfile::tempdir().unwrap();
    Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-pdf-header-footer",
            &format!("--user-data-dir={}", profile.path().display()),
        ])
        .args(args)
        .output()
        .expect("start chromium (apt-get install chromium; cargo xtask ci does)")
}

/// Pages of a PDF Chromium wrote (each page is a `/Type /Page` object).
fn pages(pdf: &[u8]) -> usize {
    let needle = b"/Type /Page";
    pdf.windows(needle.len() + 1).filter(|w| &w[..needle.len()] == needle && w[needle.len()] != b's').count()
}

/// Checks `report` (a report.html).
pub fn check(report: &Path) {
    let html = std::fs::read_to_string(report).unwrap();
    for section in ["1. Introduction", "2. Method", "3. Results", "4. Conclusion", "Appendix: the model in PyTorch"] {
        assert!(html.contains(section), "the report has no {section:?}");
    }
    assert!(!html.contains("src=\"figures/") && html.contains("data:image/png;base64,"), "images are not embedded");
    // The body alone (up to the appendix) must fit six pages.
    let dir = tempfile::tempdir().unwrap();
    let body = dir.path().join("body.html");
    let cut = html.find("<!-- appendix -->").expect("an appendix marker");
    std::fs::write(&body, format!("{}</body></html>", &html[..cut])).unwrap();
    for (file, max) in [(&body, Some(6)), (&report.to_path_buf(), None)] {
        let pdf = dir.path().join("out.pdf");
        let out = chromium(&[&format!("--print-to-pdf={}", pdf.display()), &format!("file://{}", file.display())]);
        assert!(pdf.is_file(), "chromium wrote no PDF: {}", String::from_utf8_lossy(&out.stderr));
        let n = pages(&std::fs::read(&pdf).unwrap());
        assert!(n >= 2, "{n} pages");
        if let Some(max) = max {
            assert!(n <= max, "the report before its appendix prints on {n} A4 pages (at most {max})");
        }
    }
    // Every image decodes: the page's script counts them once loaded.
    let out = chromium(&["--dump-dom", "--virtual-time-budget=10000", &format!("file://{}", report.display())]);
    let dom = String::from_utf8_lossy(&out.stdout);
    let counted = dom.split("data-images=\"").nth(1).and_then(|s| s.split('"').next()).expect("the load script ran");
    let (loaded, total) = counted.split_once('/').unwrap();
    assert_eq!(loaded, total, "{counted} images decoded");
    assert!(total.parse::<usize>().unwrap() >= 20, "{total} images");
}
