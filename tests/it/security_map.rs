//! docs/security.md cannot rot: its OWASP ASVS 5.0 map names every level 1 and 2 requirement
//! of the published ASVS 5.0.0 once and no other number, and every test it names as
//! `FILE::FUNCTION` is a function in that file.

use std::collections::BTreeMap;

/// ASVS 5.0.0's level 1 and 2 requirements (`OWASP_Application_Security_Verification_Standard_5.0.0_en.csv`):
/// per section, how many there are. In every section they are the first ones, numbered from 1;
/// the rest of a section is level 3.
const LEVEL_1_AND_2: &[(&str, u32)] = &[
    ("1.1", 2),
    ("1.2", 9),
    ("1.3", 11),
    ("1.4", 3),
    ("1.5", 2),
    ("2.1", 3),
    ("2.2", 3),
    ("2.3", 4),
    ("2.4", 1),
    ("3.2", 2),
    ("3.3", 4),
    ("3.4", 6),
    ("3.5", 5),
    ("3.7", 2),
    ("4.1", 3),
    ("4.2", 1),
    ("4.3", 2),
    ("4.4", 4),
    ("5.1", 1),
    ("5.2", 3),
    ("5.3", 2),
    ("5.4", 3),
    ("6.1", 3),
    ("6.2", 12),
    ("6.3", 4),
    ("6.4", 4),
    ("6.5", 5),
    ("6.6", 3),
    ("6.8", 4),
    ("7.1", 3),
    ("7.2", 4),
    ("7.3", 2),
    ("7.4", 5),
    ("7.5", 2),
    ("7.6", 2),
    ("8.1", 2),
    ("8.2", 3),
    ("8.3", 1),
    ("8.4", 1),
    ("9.1", 3),
    ("9.2", 4),
    ("10.1", 2),
    ("10.2", 2),
    ("10.3", 4),
    ("10.4", 11),
    ("10.5", 5),
    ("10.6", 2),
    ("10.7", 3),
    ("11.1", 2),
    ("11.2", 3),
    ("11.3", 3),
    ("11.4", 4),
    ("11.5", 1),
    ("11.6", 1),
    ("12.1", 3),
    ("12.2", 2),
    ("12.3", 4),
    ("13.1", 1),
    ("13.2", 5),
    ("13.3", 2),
    ("13.4", 5),
    ("14.1", 2),
    ("14.2", 4),
    ("14.3", 3),
    ("15.1", 3),
    ("15.2", 3),
    ("15.3", 7),
    ("16.1", 1),
    ("16.2", 5),
    ("16.3", 4),
    ("16.4", 3),
    ("16.5", 3),
    ("17.1", 1),
    ("17.2", 4),
    ("17.3", 2),
];

const STATUSES: &[&str] = &["test", "design", "n/a", "partly", "open"];

fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The map's rows: requirement number → (status, evidence).
fn rows(doc: &str) -> BTreeMap<String, Vec<(String, String)>> {
    let mut rows: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for line in doc.lines() {
        let cells: Vec<&str> = line.split(" | ").map(str::trim).collect();
        let Some(id) = cells.first().and_then(|c| c.strip_prefix("| ")) else {
            continue;
        };
        if !id
            .split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
            || id.split('.').count() != 3
        {
            continue;
        }
        assert_eq!(
            cells.len(),
            4,
            "row {id}: number | title | status | evidence"
        );
        rows.entry(id.to_string()).or_default().push((
            cells[2].to_string(),
            cells[3].trim_end_matches(" |").to_string(),
        ));
    }
    rows
}

/// Every `` `FILE::FUNCTION` `` named anywhere in `doc` (FILE a Rust file of the repository).
fn named_tests(doc: &str) -> Vec<(String, String)> {
    doc.split('`')
        .skip(1)
        .step_by(2)
        .filter_map(|code| {
            let (file, function) = code.split_once(".rs::")?;
            let ok = |s: &str, extra: &[u8]| {
                !s.is_empty()
                    && s.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || extra.contains(&b))
            };
            (ok(file, b"/-") && ok(function, b""))
                .then(|| (format!("{file}.rs"), function.to_string()))
        })
        .collect()
}

#[test]
fn asvs_map_names_every_level_2_requirement_and_only_tests_that_exist() {
    let doc = std::fs::read_to_string(root().join("docs/security.md")).unwrap();
    let rows = rows(&doc);
    let mut wanted = Vec::new();
    for (section, n) in LEVEL_1_AND_2 {
        for i in 1..=*n {
            wanted.push(format!("{section}.{i}"));
        }
    }
    let missing: Vec<_> = wanted.iter().filter(|id| !rows.contains_key(*id)).collect();
    assert!(
        missing.is_empty(),
        "ASVS requirements without a row: {missing:?}"
    );
    let unknown: Vec<_> = rows.keys().filter(|id| !wanted.contains(id)).collect();
    assert!(
        unknown.is_empty(),
        "rows for numbers that are not level 1/2 requirements of ASVS 5.0.0: {unknown:?}"
    );
    for (id, entries) in &rows {
        assert_eq!(entries.len(), 1, "{id} has more than one row");
        let (status, evidence) = &entries[0];
        assert!(
            STATUSES.contains(&status.as_str()),
            "{id}: status `{status}`"
        );
        assert!(!evidence.is_empty(), "{id}: no evidence or reason");
        if status == "test" {
            assert!(
                !named_tests(evidence).is_empty(),
                "{id} says `test` but names no FILE::FUNCTION"
            );
        }
    }

    let named = named_tests(&doc);
    assert!(named.len() > 100, "only {} tests named", named.len());
    let mut absent = Vec::new();
    for (file, function) in &named {
        let text = std::fs::read_to_string(root().join(file))
            .unwrap_or_else(|e| panic!("docs/security.md names `{file}::{function}`: {e}"));
        let defined = text
            .match_indices(&format!("fn {function}"))
            .any(|(at, m)| {
                let next = text[at + m.len()..].chars().next();
                matches!(next, Some('(') | Some('<'))
            });
        if !defined {
            absent.push(format!("{file}::{function}"));
        }
    }
    assert!(
        absent.is_empty(),
        "named in docs/security.md but not defined: {absent:?}"
    );
}
