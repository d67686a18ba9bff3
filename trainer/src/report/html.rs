//! A small HTML document builder for the report: headings, paragraphs, Markdown tables, rows of
//! embedded PNG figures with numbered captions, code, and print CSS for A4.

use std::fmt::Write as _;
use std::path::Path;

use base64::Engine as _;

/// The report being written.
#[derive(Debug, Clone)]
pub struct Doc {
    body: String,
    /// Figures embedded so far.
    pub figures: usize,
    /// Tables included so far.
    pub tables: usize,
    title: String,
}

/// Escapes text for HTML.
#[must_use]
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

const STYLE: &str = r#"
@page { size: A4; margin: 11mm 12mm; }
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; font-size: 8.6pt; line-height: 1.3;
       max-width: 186mm; margin: 0 auto; color: #111; }
h1 { font-size: 14pt; margin: 0 0 2mm; }
h2 { font-size: 11pt; margin: 3mm 0 1mm; border-bottom: 1px solid #bbb; }
h3 { font-size: 9.5pt; margin: 2mm 0 1mm; }
p { margin: 1mm 0; }
.row { display: flex; gap: 2mm; margin: 1mm 0; break-inside: avoid; }
figure { margin: 0; flex: 1 1 0; min-width: 0; break-inside: avoid; }
figure img { width: 100%; height: auto; display: block; }
figcaption { font-size: 7.4pt; color: #333; margin-top: 0.5mm; }
table { border-collapse: collapse; font-size: 7.4pt; margin: 1mm 0; break-inside: avoid; }
td, th { border: 1px solid #ccc; padding: 0.4mm 1.4mm; text-align: right; }
td:first-child, th:first-child { text-align: left; }
.tables { display: flex; gap: 4mm; flex-wrap: wrap; align-items: flex-start; }
.tables > div { break-inside: avoid; }
.caption { font-size: 7.4pt; color: #333; }
.appendix { break-before: page; }
pre { font-size: 6.6pt; white-space: pre-wrap; background: #f6f6f6; padding: 1.5mm; }
.note { color: #a33; }
"#;

/// Checks, once the page is loaded, that every image decoded: `data-images="loaded/total"`.
const SCRIPT: &str = "window.addEventListener('load', () => { const i = [...document.images]; \
document.body.dataset.images = i.filter(x => x.complete && x.naturalWidth > 0).length + '/' + i.length; });";

impl Doc {
    /// An empty report titled `title`.
    #[must_use]
    pub fn new(title: &str) -> Self {
        Self { body: String::new(), figures: 0, tables: 0, title: title.into() }
    }

    /// A section heading.
    pub fn h2(&mut self, text: &str) {
        let _ = writeln!(self.body, "<h2>{}</h2>", esc(text));
    }

    /// A subsection heading.
    pub fn h3(&mut self, text: &str) {
        let _ = writeln!(self.body, "<h3>{}</h3>", esc(text));
    }

    /// A paragraph of plain text.
    pub fn p(&mut self, text: &str) {
        let _ = writeln!(self.body, "<p>{}</p>", esc(text));
    }

    /// A highlighted remark.
    pub fn note(&mut self, text: &str) {
        let _ = writeln!(self.body, "<p class=\"note\">{}</p>", esc(text));
    }

    /// A row of figures (PNG files) with captions; missing files are skipped. Returns how many
    /// were placed.
    pub fn figures(&mut self, figs: &[(&Path, &str)]) -> usize {
        let present: Vec<&(&Path, &str)> = figs.iter().filter(|(p, _)| p.is_file()).collect();
        if present.is_empty() {
            return 0;
        }
        self.body.push_str("<div class=\"row\">\n");
        for (path, caption) in &present {
            let Ok(bytes) = std::fs::read(path) else { continue };
            self.figures += 1;
            let data = base64::engine::general_purpose::STANDARD.encode(bytes);
            let _ = writeln!(
                self.body,
                "<figure><img alt=\"{}\" src=\"data:image/png;base64,{data}\"><figcaption><b>Figure {}.</b> {}</figcaption></figure>",
                esc(caption),
                self.figures,
                esc(caption)
            );
        }
        self.body.push_str("</div>\n");
        present.len()
    }

    /// Markdown tables (`| a | b |` lines; the `|---|` line marks the header) side by side, each
    /// with a caption.
    pub fn tables(&mut self, tables: &[(&str, &str)]) {
        self.body.push_str("<div class=\"tables\">\n");
        for (markdown, caption) in tables {
            self.tables += 1;
            let _ =
                writeln!(self.body, "<div><div class=\"caption\"><b>Table {}.</b> {}</div>", self.tables, esc(caption));
            self.body.push_str(&table(markdown));
            self.body.push_str("</div>\n");
        }
        self.body.push_str("</div>\n");
    }

    /// The appendix: starts on a new page; `code` in a preformatted block.
    pub fn appendix(&mut self, title: &str, intro: &str, code: &str) {
        let _ = writeln!(
            self.body,
            "<!-- appendix -->\n<section class=\"appendix\"><h2>{}</h2><p>{}</p><pre>{}</pre></section>",
            esc(title),
            esc(intro),
            esc(code)
        );
    }

    /// The whole document.
    #[must_use]
    pub fn finish(&self) -> String {
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title><style>{STYLE}</style>\
             <script>{SCRIPT}</script></head>\n<body>\n<h1>{t}</h1>\n{}</body></html>\n",
            self.body,
            t = esc(&self.title)
        )
    }
}

/// A Markdown table as HTML (`**bold**` kept bold).
#[must_use]
pub fn table(markdown: &str) -> String {
    let mut s = String::from("<table>\n");
    let lines: Vec<&str> = markdown.lines().filter(|l| l.trim_start().starts_with('|')).collect();
    for (i, line) in lines.iter().enumerate() {
        if line.contains("---") {
            continue;
        }
        let header = lines.get(i + 1).is_some_and(|n| n.contains("---"));
        let tag = if header { "th" } else { "td" };
        let cells: Vec<&str> = line.trim().trim_matches('|').split('|').map(str::trim).collect();
        s.push_str("<tr>");
        for c in cells {
            let text = esc(c);
            let text = match text.strip_prefix("**").and_then(|t| t.strip_suffix("**")) {
                Some(b) => format!("<b>{b}</b>"),
                None => text,
            };
            let _ = write!(s, "<{tag}>{text}</{tag}>");
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</table>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_and_escaping() {
        let t = table("| a | b |\n|---|---|\n| **total** | <1 |\n");
        assert!(t.contains("<th>a</th>") && t.contains("<td><b>total</b></td>") && t.contains("&lt;1"), "{t}");
        let mut d = Doc::new("T & U");
        d.p("x < y");
        let html = d.finish();
        assert!(html.contains("<h1>T &amp; U</h1>") && html.contains("x &lt; y"));
    }
}
