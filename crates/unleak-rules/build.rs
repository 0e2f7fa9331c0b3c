//! Embeds every `rules/*.toml` file of the repository into the binary, sorted by name so
//! the catalog (and therefore rule order and output) is the same on every machine: the
//! TOML text as written (for tests and tools that show a file), and each file converted to
//! JSON, which is what a scan loads (parsing JSON costs a fraction of parsing TOML, and the
//! catalog is parsed on every start).
use std::{env, fs, path::PathBuf};

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let dir = manifest.join("../../rules");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read rule directory {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    let json_dir = out_dir.join("rules-json");
    fs::create_dir_all(&json_dir).unwrap();
    let mut toml_list = String::from("pub(crate) static BUILTIN: &[(&str, &str)] = &[\n");
    let mut json_list = String::from("pub(crate) static BUILTIN_JSON: &[(&str, &str)] = &[\n");
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let file_name = f.file_name().unwrap().to_string_lossy().into_owned();
        let name = format!("rules/{file_name}");
        let canon = f.canonicalize().unwrap();
        let text = fs::read_to_string(f)
            .unwrap_or_else(|e| panic!("cannot read built-in rule file {name}: {e}"));
        // A built-in file that is not TOML fails the build, naming the file; its schema is
        // checked by the crate's tests.
        let value: toml::Value =
            toml::from_str(&text).unwrap_or_else(|e| panic!("built-in rule file {name}: {e}"));
        let json_path = json_dir.join(format!("{file_name}.json"));
        fs::write(&json_path, serde_json::to_string(&value).unwrap()).unwrap();
        toml_list.push_str(&format!(
            "    ({name:?}, include_str!({:?})),\n",
            canon.display().to_string()
        ));
        json_list.push_str(&format!(
            "    ({name:?}, include_str!({:?})),\n",
            json_path.display().to_string()
        ));
    }
    toml_list.push_str("];\n");
    json_list.push_str("];\n");
    fs::write(out_dir.join("builtin_rules.rs"), toml_list + &json_list).unwrap();
}
