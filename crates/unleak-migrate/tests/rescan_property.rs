//! Property: migrating a file and scanning the result again finds nothing but the
//! secrets the plan leaves to a person (strategy `manual`). Files of every type are built
//! from random subsets and orders of secret-bearing lines (connection strings, vendor
//! tokens, generic secrets; values from the rule generator, never pasted), with LF or CRLF
//! endings; findings come from the real matcher with the built-in catalog, and the plan is
//! carried out through the public `prepare` path, as `unleak migrate apply` does.

use proptest::prelude::*;
use std::sync::OnceLock;
use unleak_core::{Blob, Finding, Origin};
use unleak_matcher::{Matcher, MatcherOptions};
use unleak_migrate::{plan, prepare, PlanOptions, SourceFile, Strategy as Migration};
use unleak_rules::generate;

/// Secret-bearing values, as generator templates.
const VALUES: [&str; 8] = [
    "postgres://app:{{gen:alnum:24}}@db.prod.internal:5432/app",
    "mysql://shop:{{gen:alnum:20}}@mysql.prod.internal:3306/shop",
    "{{gen:crc32:ghp_}}",
    "{{gen:'xoxb-'+digits:12+'-'+digits:13+'-'+alnum:24}}",
    "{{gen:crc32:npm_}}",
    "{{gen:'sk_live_'+alnum:24}}",
    "{{gen:b64url:40}}",
    "redis://:{{gen:alnum:24}}@cache.prod.internal:6379/0",
];

/// Variable names the values stand under, secret-like and not.
const KEYS: [&str; 8] = [
    "DATABASE_URL",
    "SHOP_DB_URL",
    "GITHUB_TOKEN",
    "SLACK_BOT_TOKEN",
    "NPM_TOKEN",
    "STRIPE_SECRET_KEY",
    "SESSION_SECRET",
    "REDIS_URL",
];

#[derive(Clone, Copy, Debug)]
enum Kind {
    Dotenv,
    Dockerfile,
    Compose,
    Kubernetes,
    Workflow,
    Helm,
}

impl Kind {
    fn path(self) -> &'static str {
        match self {
            Kind::Dotenv => ".env.production",
            Kind::Dockerfile => "Dockerfile",
            Kind::Compose => "docker-compose.yml",
            Kind::Kubernetes => "k8s/api.yaml",
            Kind::Workflow => ".github/workflows/deploy.yml",
            Kind::Helm => "chart/values-prod.yaml",
        }
    }

    /// The file with `pairs` (key, value) in it, one assignment each.
    fn render(self, pairs: &[(&str, String)]) -> String {
        let mut s = String::new();
        match self {
            Kind::Dotenv => {
                s.push_str("# app settings\nNODE_ENV=production\n");
                for (k, v) in pairs {
                    s.push_str(&format!("{k}={v}\n"));
                }
            }
            Kind::Dockerfile => {
                s.push_str("FROM node:20-slim\nWORKDIR /app\n");
                for (k, v) in pairs {
                    s.push_str(&format!("ENV {k}={v}\n"));
                }
                s.push_str("CMD [\"node\", \"server.js\"]\n");
            }
            Kind::Compose => {
                s.push_str(
                    "services:\n  api:\n    image: ghcr.io/acme/api:2.1\n    environment:\n",
                );
                for (k, v) in pairs {
                    s.push_str(&format!("      {k}: \"{v}\"\n"));
                }
            }
            Kind::Kubernetes => {
                s.push_str(
                    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  namespace: shop\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          image: ghcr.io/acme/api:2.1\n          env:\n",
                );
                for (k, v) in pairs {
                    s.push_str(&format!(
                        "            - name: {k}\n              value: \"{v}\"\n"
                    ));
                }
            }
            Kind::Workflow => {
                s.push_str("name: deploy\non: push\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    env:\n");
                for (k, v) in pairs {
                    s.push_str(&format!("      {k}: {v}\n"));
                }
                s.push_str("    steps:\n      - run: make deploy\n");
            }
            Kind::Helm => {
                s.push_str("replicaCount: 2\nconfig:\n");
                for (k, v) in pairs {
                    s.push_str(&format!("  {}: \"{v}\"\n", k.to_ascii_lowercase()));
                }
            }
        }
        s
    }
}

fn matcher() -> &'static Matcher {
    static M: OnceLock<Matcher> = OnceLock::new();
    M.get_or_init(|| {
        let rules = unleak_rules::builtin().expect("the built-in catalog compiles");
        Matcher::new(rules, MatcherOptions::default())
    })
}

fn scan(path: &str, data: &[u8]) -> Vec<Finding> {
    matcher().scan(&Blob::new(Origin::File(path.into()), data))
}

fn kind() -> impl Strategy<Value = Kind> {
    prop::sample::select(vec![
        Kind::Dotenv,
        Kind::Dockerfile,
        Kind::Compose,
        Kind::Kubernetes,
        Kind::Workflow,
        Kind::Helm,
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn rewrite_then_rescan_finds_nothing(
        kind in kind(),
        picks in prop::collection::vec((0..VALUES.len(), 0..KEYS.len()), 1..5),
        seed in any::<u64>(),
        crlf in any::<bool>(),
    ) {
        let mut pairs = Vec::new();
        for (n, (v, k)) in picks.iter().enumerate() {
            let (value, _) = generate::expand(VALUES[*v], seed ^ n as u64).unwrap();
            // One assignment per key: a file that sets a key twice is not what this tests.
            if pairs.iter().all(|(key, _)| key != &KEYS[*k]) {
                pairs.push((KEYS[*k], value));
            }
        }
        let mut text = kind.render(&pairs);
        if crlf {
            text = text.replace('\n', "\r\n");
        }
        let path = kind.path();
        let dir = tempfile::tempdir().unwrap();
        let disk = dir.path().join(path);
        std::fs::create_dir_all(disk.parent().unwrap()).unwrap();
        std::fs::write(&disk, &text).unwrap();

        let findings = scan(path, text.as_bytes());
        // A random value under a name no rule ties it to may not be a finding at all.
        prop_assume!(!findings.is_empty());
        let files = [SourceFile { path, data: text.as_bytes(), findings: &findings }];
        let plan = plan(&files, &[], matcher().rules(), &PlanOptions::default());
        let prepared = prepare(&plan, dir.path(), matcher().rules(), &|p, bytes| scan(p, bytes))
            .expect("a fresh plan applies to the file it was made from");

        // Values the plan hands to a person stay; every other one must be gone.
        let manual: Vec<&[u8]> = findings
            .iter()
            .filter(|f| {
                plan.findings.iter().any(|p| {
                    p.strategy == Migration::Manual
                        && (p.line, p.column) == (f.location.line, f.location.column)
                })
            })
            .map(|f| f.secret.expose())
            .collect();
        let new = prepared.files.iter().find(|f| f.path == path).map_or(text.as_bytes(), |f| &f.new[..]);
        let left: Vec<String> = scan(path, new)
            .iter()
            .filter(|f| !manual.contains(&f.secret.expose()))
            .map(|f| format!("{} at line {}", f.rule_id, f.location.line))
            .collect();
        prop_assert!(
            left.is_empty(),
            "after migrating, the rescan still finds {:?} in:\n{}",
            left,
            String::from_utf8_lossy(new)
        );
    }
}
