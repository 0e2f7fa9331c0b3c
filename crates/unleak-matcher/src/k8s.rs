//! Finds the entries of Kubernetes Secret objects: every `data:` value (base64 by the
//! API's definition, whatever its key is called) and the lines of `stringData:` (plain
//! values the API server encodes itself), in YAML manifests (several documents, `List`
//! items, Helm-rendered output, block scalars) and in JSON (`kubectl get secret -o json`).
//!
//! Owns: telling a Secret from other objects (a ConfigMap's `data:` is plain text), and
//! where each entry's key and value bytes are, a block scalar's value being one piece per
//! line. Reading is by lines and indentation for YAML and by a bracket walk for JSON, not
//! a full parser: what cannot be read as an entry is left to the ordinary scan.
//!
//! Does not own: decoding the values (decode.rs) or scanning them (the matcher).

use unleak_core::Span;

/// One `data:` entry of a Secret.
#[derive(Debug, PartialEq, Eq)]
pub struct DataEntry {
    /// The entry's key (`.dockerconfigjson`, `tls.key`, `password`).
    pub key: Span,
    /// The value's bytes, one piece per line it spans (quotes and indentation left out).
    pub pieces: Vec<Span>,
}

/// What the Secrets in a blob hold.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SecretEntries {
    pub data: Vec<DataEntry>,
    /// The lines under each `stringData:`, from the first entry's start to the last's end.
    pub string_data: Vec<Span>,
}

/// Most nested brackets followed in JSON: a Secret sits a few levels deep (in a `List`).
const MAX_JSON_DEPTH: usize = 64;
/// Largest blob read for Secrets. The API server stores objects of at most 1.5 MiB, so a
/// file of manifests past this is data, and reading it line by line would cost memory in
/// proportion to its lines.
const MAX_MANIFEST: usize = 8 * 1024 * 1024;
/// Most lines of YAML read for Secrets: each costs a record of its shape while the blob is
/// read (about 5 MiB at this bound), and a file of manifests holding a Secret is far shorter.
const MAX_MANIFEST_LINES: usize = 65_536;
/// Lines looked at, per line of the blob, when telling which mappings are Secrets: a blob
/// of many `data:` keys in one mapping must not cost a pass over the mapping for each.
const SIBLING_WORK_PER_LINE: usize = 8;

/// The word every Secret's `kind` names: a blob without it (in any case) holds no Secret,
/// so the matcher's keyword pass looks for it and calls [`secret_entries`] only on a hit.
pub const SECRET_MARKER: &str = "Secret";

/// The entries of every Secret in `data`, in order.
pub fn secret_entries(data: &[u8]) -> SecretEntries {
    let mut out = SecretEntries::default();
    if data.len() > MAX_MANIFEST || !names_secret_kind(data) {
        return out;
    }
    let first = data.iter().find(|b| !b.is_ascii_whitespace());
    if matches!(first, Some(b'{' | b'[')) {
        json_entries(data, &mut out);
    } else if memchr::memchr_iter(b'\n', data).count() < MAX_MANIFEST_LINES {
        yaml_entries(data, &mut out);
    }
    out
}

/// Whether `Secret` stands just after a `kind` key somewhere (`kind: Secret`,
/// `"kind": "Secret"`): the cheap test that keeps code mentioning secrets from being read
/// line by line.
fn names_secret_kind(data: &[u8]) -> bool {
    memchr::memmem::find_iter(data, SECRET_MARKER.as_bytes()).any(|at| {
        let before = &data[at.saturating_sub(10)..at];
        memchr::memmem::find(before, b"kind").is_some()
    })
}

/// One YAML line, as far as mappings go.
struct Line {
    start: usize,
    end: usize,
    /// Leading spaces.
    indent: usize,
    /// Column of the content after any `- ` list markers.
    col: usize,
    /// Whether the line starts a list item (`- key: value`).
    dash: bool,
    /// `key:` on this line, and what follows the colon (trimmed, comments kept).
    key: Option<(Span, Span)>,
    /// Blank or a comment: neither ends nor belongs to a mapping.
    empty: bool,
    /// `---` or `...`: a document boundary.
    boundary: bool,
}

fn read_lines(data: &[u8]) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut start = 0;
    while start < data.len() {
        let end = memchr::memchr(b'\n', &data[start..]).map_or(data.len(), |i| start + i);
        lines.push(read_line(data, start, end));
        start = end + 1;
    }
    lines
}

fn read_line(data: &[u8], start: usize, end: usize) -> Line {
    let mut end_trim = end;
    while end_trim > start && data[end_trim - 1].is_ascii_whitespace() {
        end_trim -= 1;
    }
    let text = &data[start..end_trim];
    let indent = text.iter().take_while(|&&b| b == b' ').count();
    let mut col = indent;
    let mut dash = false;
    while text.get(col) == Some(&b'-') && matches!(text.get(col + 1), Some(b' ') | None) {
        dash = true;
        col += 1;
        while text.get(col) == Some(&b' ') {
            col += 1;
        }
    }
    let rest = &text[col..];
    let boundary = indent == 0 && (rest == b"---" || rest == b"..." || text.starts_with(b"--- "));
    let empty = rest.is_empty() || rest[0] == b'#';
    let key = (!empty && !boundary)
        .then(|| mapping_key(rest))
        .flatten()
        .map(|(k, v)| {
            let k = Span::new(start + col + k.start, start + col + k.end);
            let v = Span::new(start + col + v.start, start + col + v.end);
            (k, v)
        });
    Line {
        start,
        end: end_trim,
        indent,
        col,
        dash,
        key,
        empty,
        boundary,
    }
}

/// `key: value` at the start of `rest`: the key (inside any quotes) and the value after
/// the colon, both relative to `rest`.
fn mapping_key(rest: &[u8]) -> Option<(Span, Span)> {
    let (key, after) = match rest[0] {
        q @ (b'"' | b'\'') => {
            let close = memchr::memchr(q, &rest[1..])? + 1;
            (Span::new(1, close), close + 1)
        }
        _ => {
            let colon = rest
                .windows(2)
                .position(|w| w[0] == b':' && w[1] == b' ')
                .or_else(|| rest.ends_with(b":").then(|| rest.len() - 1))?;
            (Span::new(0, colon), colon)
        }
    };
    if rest.get(after) != Some(&b':') || key.is_empty() {
        return None;
    }
    let mut v = after + 1;
    while rest.get(v) == Some(&b' ') {
        v += 1;
    }
    Some((key, Span::new(v, rest.len())))
}

fn bytes(data: &[u8], s: Span) -> &[u8] {
    &data[s.start..s.end]
}

/// Whether the mapping holding line `at` (whose keys start at its `col`) has `kind: Secret`,
/// looking at no more lines than `work` allows (which is decreased).
fn mapping_is_secret(data: &[u8], lines: &[Line], at: usize, work: &mut usize) -> bool {
    let col = lines[at].col;
    let is_kind_secret = |l: &Line| {
        l.col == col
            && l.key.is_some_and(|(k, v)| {
                bytes(data, k) == b"kind" && unquote(bytes(data, v)) == b"Secret"
            })
    };
    // Back to the line that opens the mapping (its list item's dash, or a parent key).
    if !lines[at].dash {
        for l in lines[..at].iter().rev() {
            *work = work.saturating_sub(1);
            if *work == 0 {
                return false;
            }
            if l.empty {
                continue;
            }
            if l.boundary || l.indent < col && !(l.dash && l.col == col) {
                break;
            }
            if is_kind_secret(l) {
                return true;
            }
            if l.dash && l.col == col {
                break;
            }
        }
    }
    for l in &lines[at + 1..] {
        *work = work.saturating_sub(1);
        if *work == 0 {
            return false;
        }
        if l.empty {
            continue;
        }
        // A sibling list item (`- kind: …` at this column) is another mapping.
        if l.boundary || l.indent < col || (l.dash && l.col <= col) {
            break;
        }
        if is_kind_secret(l) {
            return true;
        }
    }
    false
}

fn unquote(v: &[u8]) -> &[u8] {
    let v = match memchr::memmem::find(v, b" #") {
        Some(i) => v[..i].trim_ascii_end(),
        None => v,
    };
    match v {
        [q @ (b'"' | b'\''), inner @ .., last] if last == q => inner,
        _ => v,
    }
}

fn yaml_entries(data: &[u8], out: &mut SecretEntries) {
    let lines = read_lines(data);
    let mut work = SIBLING_WORK_PER_LINE * lines.len();
    for (i, line) in lines.iter().enumerate() {
        let Some((k, v)) = line.key else { continue };
        let section = bytes(data, k);
        let plain = match section {
            b"data" => false,
            b"stringData" => true,
            _ => continue,
        };
        let after = bytes(data, v);
        if !(after.is_empty() || after[0] == b'#') || !mapping_is_secret(data, &lines, i, &mut work)
        {
            continue;
        }
        // The section's entries: the lines indented past it, up to the first that is not.
        let body: Vec<usize> = (i + 1..lines.len())
            .take_while(|&j| {
                let l = &lines[j];
                l.empty || (!l.boundary && l.indent > line.col)
            })
            .filter(|&j| !lines[j].empty)
            .collect();
        let Some(&first) = body.first() else { continue };
        if plain {
            let last = *body.last().expect("body is not empty");
            out.string_data
                .push(Span::new(lines[first].start, lines[last].end));
            continue;
        }
        let col = lines[first].indent;
        let mut at = 0;
        while at < body.len() {
            let l = &lines[body[at]];
            at += 1;
            let Some((key, value)) = l.key.filter(|_| l.indent == col && !l.dash) else {
                continue;
            };
            // Lines indented past the entry: a block scalar's or a folded plain value's.
            let more: Vec<usize> = body[at..]
                .iter()
                .copied()
                .take_while(|&j| lines[j].indent > col)
                .collect();
            at += more.len();
            let mut pieces = Vec::new();
            let v = bytes(data, value);
            let indicator = matches!(v.first(), Some(b'|' | b'>'));
            if !indicator && !v.is_empty() {
                pieces.push(inline_value(data, value));
            }
            pieces.extend(more.iter().map(|&j| {
                let m = &lines[j];
                Span::new(m.start + m.indent, m.end)
            }));
            pieces.retain(|p| !p.is_empty());
            if !pieces.is_empty() {
                out.data.push(DataEntry { key, pieces });
            }
        }
    }
}

/// A value on its key's line, inside quotes and before a comment.
fn inline_value(data: &[u8], value: Span) -> Span {
    let v = bytes(data, value);
    let inner = unquote(v);
    let offset = inner.as_ptr() as usize - v.as_ptr() as usize;
    Span::new(value.start + offset, value.start + offset + inner.len())
}

/// One open bracket of the JSON walk.
enum Frame {
    Array,
    Object {
        /// The last key read, while its value is pending.
        key: Option<Span>,
        secret: bool,
        /// Whether this object is the value of a `data` key.
        is_data: bool,
        /// String members of this `data` object, or the entries of the `data` object of
        /// this one.
        entries: Vec<DataEntry>,
    },
}

fn json_entries(data: &[u8], out: &mut SecretEntries) {
    let mut stack: Vec<Frame> = Vec::new();
    let mut i = 0;
    while i < data.len() {
        match data[i] {
            b'"' => {
                let Some(end) = json_string_end(data, i + 1) else {
                    return;
                };
                let s = Span::new(i + 1, end);
                i = end + 1;
                let next = data[i..].iter().find(|b| !b.is_ascii_whitespace());
                let Some(Frame::Object {
                    key,
                    secret,
                    is_data,
                    entries,
                }) = stack.last_mut()
                else {
                    continue;
                };
                if next == Some(&b':') {
                    *key = Some(s);
                    continue;
                }
                match key.take() {
                    Some(k) if *is_data => entries.push(DataEntry {
                        key: k,
                        pieces: vec![s],
                    }),
                    Some(k) if bytes(data, k) == b"kind" && bytes(data, s) == b"Secret" => {
                        *secret = true
                    }
                    _ => {}
                }
                continue;
            }
            b'{' | b'[' if stack.len() >= MAX_JSON_DEPTH => return,
            b'{' => {
                let is_data = match stack.last_mut() {
                    Some(Frame::Object { key, .. }) => {
                        key.take().is_some_and(|k| bytes(data, k) == b"data")
                    }
                    _ => false,
                };
                stack.push(Frame::Object {
                    key: None,
                    secret: false,
                    is_data,
                    entries: Vec::new(),
                });
            }
            b'[' => {
                if let Some(Frame::Object { key, .. }) = stack.last_mut() {
                    *key = None;
                }
                stack.push(Frame::Array);
            }
            b'}' | b']' => match stack.pop() {
                Some(Frame::Object {
                    is_data: true,
                    entries,
                    ..
                }) => {
                    if let Some(Frame::Object { entries: outer, .. }) = stack.last_mut() {
                        outer.extend(entries);
                    }
                }
                Some(Frame::Object {
                    secret: true,
                    entries,
                    ..
                }) => out.data.extend(entries),
                _ => {}
            },
            // A number, `true`, `null`: the pending key has its value.
            b',' => {
                if let Some(Frame::Object { key, .. }) = stack.last_mut() {
                    *key = None;
                }
            }
            _ => {}
        }
        i += 1;
    }
}

/// The offset of the quote closing the JSON string whose content starts at `from`.
fn json_string_end(data: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    loop {
        let j = i + memchr::memchr2(b'"', b'\\', &data[i..])?;
        if data[j] == b'"' {
            return Some(j);
        }
        i = j + 2;
        if i > data.len() {
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(key, pieces)` of every data entry, and the stringData text.
    fn entries(text: &str) -> (Vec<(String, Vec<String>)>, Vec<String>) {
        let e = secret_entries(text.as_bytes());
        let s = |span: Span| text[span.start..span.end].to_string();
        (
            e.data
                .iter()
                .map(|d| (s(d.key), d.pieces.iter().map(|&p| s(p)).collect()))
                .collect(),
            e.string_data.iter().map(|&p| s(p)).collect(),
        )
    }

    fn keys(text: &str) -> Vec<String> {
        entries(text).0.into_iter().map(|(k, _)| k).collect()
    }

    #[test]
    fn data_entries_of_a_secret_are_found_whatever_their_key() {
        let text = "\
apiVersion: v1
kind: Secret
metadata:
  name: registry
  labels:
    data: not-this
type: kubernetes.io/dockerconfigjson
data:
  .dockerconfigjson: eyJhdXRocyI6e319
  extra: 'QUJD'   # quoted, with a comment
  \"tls.key\": \"REVG\"
  config.yaml: |
    R0hJ
    SktM
  folded: >-
    TU5P
";
        let (data, plain) = entries(text);
        assert_eq!(
            data,
            [
                (".dockerconfigjson".into(), vec!["eyJhdXRocyI6e319".into()]),
                ("extra".into(), vec!["QUJD".into()]),
                ("tls.key".into(), vec!["REVG".into()]),
                ("config.yaml".into(), vec!["R0hJ".into(), "SktM".into()]),
                ("folded".into(), vec!["TU5P".into()]),
            ]
        );
        assert!(plain.is_empty());
    }

    #[test]
    fn only_secrets_count_and_kind_may_follow_data() {
        // kubectl writes `data` before `kind`; a ConfigMap's data is plain text.
        let text = "\
data:
  a: QUJD
kind: Secret
---
apiVersion: v1
kind: ConfigMap
data:
  b: QUJD
---
kind: Secret
stringData:
  DB_PASSWORD: postgres
  other: x
";
        let (data, plain) = entries(text);
        assert_eq!(keys(text), ["a"]);
        assert_eq!(data[0].1, ["QUJD"]);
        assert_eq!(plain, ["  DB_PASSWORD: postgres\n  other: x"]);
    }

    #[test]
    fn list_items_are_separate_mappings() {
        let text = "\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  data:
    plain: QUJD
- apiVersion: v1
  data:
    first: REVG
  kind: Secret
- kind: Secret
  data:
    second: R0hJ
";
        assert_eq!(keys(text), ["first", "second"]);
    }

    #[test]
    fn helm_templates_and_flow_values_are_not_entries() {
        let text = "\
kind: Secret
data:
  {{- range $k, $v := .Values.secrets }}
  {{ $k }}: {{ $v | b64enc | quote }}
  {{- end }}
  password: {{ .Values.password | b64enc }}
";
        // The template lines are entries whose values are not base64: the decoder drops them.
        let (data, _) = entries(text);
        assert!(data.iter().all(|(_, p)| p[0].contains("{{")), "{data:?}");
        assert!(keys("kind: Secret\ndata: {a: QUJD}\n").is_empty());
        assert!(keys("kind: ConfigMap\nmetadata:\n  name: Secret\n").is_empty());
    }

    #[test]
    fn many_data_keys_in_one_mapping_cost_bounded_work() {
        // A hostile blob: every line a `data:` key of one mapping, the kind at the end.
        let text = format!("{}kind: Secret\n", "data:\n".repeat(MAX_MANIFEST_LINES - 2));
        let e = secret_entries(text.as_bytes());
        assert!(e.data.is_empty());
        // Past the size bounds nothing is read.
        let big = format!(
            "kind: Secret\ndata:\n  a: QUJD\n{}",
            " ".repeat(MAX_MANIFEST)
        );
        assert!(keys(&big).is_empty());
        let long = format!(
            "kind: Secret\ndata:\n  a: QUJD\n{}",
            "#\n".repeat(MAX_MANIFEST_LINES)
        );
        assert!(keys(&long).is_empty());
        assert_eq!(keys(&long[..long.len() / 2]), ["a"]);
    }

    #[test]
    fn kubectl_json_output_is_read_by_brackets() {
        let text = r#"{
    "apiVersion": "v1",
    "items": [
        {
            "apiVersion": "v1",
            "data": {
                ".dockercfg": "eyJ9\/fQ==",
                "n": 3
            },
            "kind": "Secret",
            "metadata": {"name": "x", "labels": {"kind": "Secret"}}
        },
        {
            "data": {"plain": "QUJD"},
            "kind": "ConfigMap"
        }
    ],
    "kind": "List"
}"#;
        let (data, _) = entries(text);
        assert_eq!(data, [(".dockercfg".into(), vec![r"eyJ9\/fQ==".into()])]);
        // Cut short or nested too deep: what was read is kept, nothing panics.
        assert!(keys(&text[..text.len() / 2]).is_empty());
        let deep = format!("{}\"kind\": \"Secret\"", "[{\"a\":".repeat(100));
        assert!(keys(&deep).is_empty());
    }
}
