//! The secret scan against a corpus of realistic files: true positives in
//! every format the scanner knows (each must be skipped, with its rule) and
//! true negatives (placeholder templates and documentation, which must be
//! imported). Every key-shaped value is built here at run time, from pieces
//! and a seeded generator, so this file itself holds no credential.

use std::path::Path;

use crate::common::*;
use serde_json::Value;

const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const LETTERS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const HEX: &str = "0123456789abcdef";
const B64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64URL: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const DIGITS: &str = "0123456789";
const UPPER_DIGITS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Deterministic fake key material: `len` characters of `alphabet`, with
/// upper and lower case and digits mixed in when the alphabet has them.
struct Fake(u64);

impl Fake {
    fn chars(&mut self, alphabet: &str, len: usize) -> String {
        let alphabet: Vec<char> = alphabet.chars().collect();
        (0..len)
            .map(|_| {
                self.0 = self
                    .0
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                alphabet[((self.0 >> 33) as usize) % alphabet.len()]
            })
            .collect()
    }

    /// `prefix` + random characters (the prefix given in pieces).
    fn key(&mut self, prefix: &[&str], alphabet: &str, len: usize) -> String {
        format!("{}{}", prefix.concat(), self.chars(alphabet, len))
    }

    fn jwt(&mut self) -> String {
        let header = ["ey", "JhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"].concat();
        format!(
            "{header}.{}{}.{}",
            ["ey", "J"].concat(),
            self.chars(B64URL, 120),
            self.chars(B64URL, 43)
        )
    }

    fn pem_body(&mut self) -> String {
        (0..6)
            .map(|_| self.chars(B64, 64))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

fn pem(kind: &str, body: &str) -> String {
    let dashes = "-".repeat(5);
    format!("{dashes}BEGIN {kind}{dashes}\n{body}\n{dashes}END {kind}{dashes}\n")
}

/// `(path, content, rule)`: files that carry a credential.
fn true_positives() -> Vec<(String, String, &'static str)> {
    let mut f = Fake(0x5eed);
    let mut tp: Vec<(String, String, &'static str)> = Vec::new();
    let mut add = |path: &str, content: String, rule: &'static str| {
        tp.push((path.to_string(), content, rule));
    };
    let at = "@";

    // Connection URLs with passwords, in env files and in code.
    add(
        ".env.local",
        format!(
            "# local overrides\nDATABASE_URL=postgres://admin:S3cr3t{at}prod-db.internal:5432/todo_app\n"
        ),
        "url-password",
    );
    add(
        "web/.env.production",
        format!(
            "DATABASE_URL=\"postgres://app:{}{at}db.example.com:5432/app\"\n",
            f.chars(ALNUM, 18)
        ),
        "url-password",
    );
    add(
        "apps/api/.env",
        format!(
            "PORT=4000\nDATABASE_URL=mysql://deploy:{}{at}10.0.3.17:3306/your_app\n",
            f.chars(ALNUM, 16)
        ),
        "url-password",
    );
    add(
        "docker-compose.prod.yml",
        format!(
            "services:\n  web:\n    environment:\n      DATABASE_URL: postgresql://root:{}{at}db.prod.internal/app\n",
            f.chars(ALNUM, 20)
        ),
        "url-password",
    );
    add(
        "lib/redis.ts",
        format!(
            "export const redis = new Redis(\"redis://default:{}{at}redis-12345.c1.us-east-1.ec2.cloud.redislabs.com:12345\");\n",
            f.chars(ALNUM, 32)
        ),
        "url-password",
    );
    add(
        "config/database.yml",
        format!(
            "production:\n  url: mongodb+srv://admin:{}{at}cluster0.ab1cd.mongodb.net/shop?retryWrites=true\n",
            f.chars(ALNUM, 16)
        ),
        "url-password",
    );
    add(
        "scripts/backup.sh",
        format!(
            "#!/bin/sh\npg_dump \"postgres://backup:{}{at}db.todo-app.com/todo\" > dump.sql\n",
            f.chars(ALNUM, 14)
        ),
        "url-password",
    );

    // Environment files with real values.
    add(
        ".env",
        format!(
            "NEXTAUTH_URL=https://shop.example.org\nNEXTAUTH_SECRET={}\n",
            f.chars(B64, 44)
        ),
        "env-file",
    );
    add(
        ".envrc",
        format!(
            "use nix\nexport OPENAI_ORG=org-{}\nexport SESSION_KEY={}\n",
            f.chars(ALNUM, 24),
            f.chars(HEX, 64)
        ),
        "env-file",
    );
    add(
        "worker/.dev.vars",
        format!("API_TOKEN={}\nENVIRONMENT=dev\n", f.chars(ALNUM, 40)),
        "env-file",
    );
    add(
        ".env.development.local",
        format!("SESSION_SECRET='{}'\n", f.chars(HEX, 48)),
        "env-file",
    );

    // Stripe.
    add(
        "lib/stripe.ts",
        format!(
            "import Stripe from \"stripe\";\nexport const stripe = new Stripe(\"{}\", {{ apiVersion: \"2024-06-20\" }});\n",
            f.key(&["sk", "_live_"], ALNUM, 99)
        ),
        "stripe-secret-key",
    );
    add(
        "server/stripe_restricted.py",
        format!(
            "import stripe\nstripe.api_key = '{}'\n",
            f.key(&["rk", "_live_"], ALNUM, 99)
        ),
        "stripe-secret-key",
    );
    add(
        "scripts/seed-stripe.js",
        format!(
            "const stripe = require('stripe')('{}');\n",
            f.key(&["sk", "_test_"], ALNUM, 99)
        ),
        "stripe-secret-key",
    );
    add(
        "config/payments.json",
        format!(
            "{{\n  \"stripe\": {{ \"restrictedKey\": \"{}\" }}\n}}\n",
            f.key(&["rk", "_test_"], ALNUM, 99)
        ),
        "stripe-secret-key",
    );
    let live = f.chars(ALNUM, 99);
    add(
        "lib/pay.js",
        format!(
            "const key = '{}' + '{live}';\nmodule.exports = key;\n",
            ["sk", "_live_"].concat()
        ),
        "stripe-secret-key",
    );

    // JWTs under key-like names.
    add(
        "lib/supabase.ts",
        format!(
            "import {{ createClient }} from \"@supabase/supabase-js\";\nconst supabaseServiceRoleKey = \"{}\";\nexport const admin = createClient(\"https://abcd.supabase.co\", supabaseServiceRoleKey);\n",
            f.jwt()
        ),
        "jwt",
    );
    add(
        "config/auth.json",
        format!("{{\n  \"accessToken\": \"{}\"\n}}\n", f.jwt()),
        "jwt",
    );
    add(
        "src/api.ts",
        format!("export const API_SECRET = '{}';\n", f.jwt()),
        "jwt",
    );
    add(
        "supabase/functions/cron/index.ts",
        format!("const SUPABASE_SERVICE_ROLE_KEY = `{}`;\n", f.jwt()),
        "jwt",
    );

    // AWS.
    add(
        "deploy/aws.ts",
        format!(
            "export const s3 = new S3Client({{ credentials: {{ accessKeyId: process.env.AWS_ID!, secretAccessKey: \"{}\" }} }});\n",
            f.chars(B64, 40)
        ),
        "aws-secret-access-key",
    );
    add(
        "config/aws-credentials",
        format!(
            "[default]\naws_secret_access_key = {}\nregion = eu-west-1\n",
            f.chars(B64, 40)
        ),
        "aws-secret-access-key",
    );
    add(
        "serverless.yml",
        format!(
            "provider:\n  environment:\n    AWS_SECRET_ACCESS_KEY: {}\n",
            f.chars(B64, 40)
        ),
        "aws-secret-access-key",
    );
    add(
        "lib/upload.py",
        format!(
            "boto3.client('s3', aws_access_key_id='{}')\n",
            f.key(&["AK", "IA"], UPPER_DIGITS, 16)
        ),
        "aws-access-key-id",
    );

    // npm.
    add(
        ".npmrc",
        format!(
            "//registry.npmjs.org/:_authToken={}-{}-{}\n",
            f.chars(HEX, 8),
            f.chars(HEX, 4),
            f.chars(HEX, 12)
        ),
        "npmrc-auth-token",
    );
    add(
        "packages/ui/.npmrc",
        format!(
            "@acme:registry=https://npm.pkg.github.com\n//npm.pkg.github.com/:_authToken={}\n",
            f.key(&["np", "m_"], ALNUM, 36)
        ),
        "npmrc-auth-token",
    );
    add(
        "scripts/publish.sh",
        format!(
            "NODE_AUTH_TOKEN={} npm publish\n",
            f.key(&["np", "m_"], ALNUM, 36)
        ),
        "npm-token",
    );

    // Google service accounts and private keys.
    let sa = |f: &mut Fake| {
        format!(
            "{{\n  \"type\": \"service_account\",\n  \"project_id\": \"shop-123\",\n  \"private_key_id\": \"{}\",\n  \"private_key\": \"{}\",\n  \"client_email\": \"x@shop-123.iam.gserviceaccount.com\"\n}}\n",
            f.chars(HEX, 40),
            pem("PRIVATE KEY", &f.pem_body()).replace('\n', "\\n")
        )
    };
    add("service-account.json", sa(&mut f), "gcp-service-account");
    add(
        "config/firebase-adminsdk.json",
        sa(&mut f),
        "gcp-service-account",
    );
    add(
        "certs/server.key",
        pem("PRIVATE KEY", &f.pem_body()),
        "private-key",
    );
    add(
        "deploy/github-app.pem",
        pem("RSA PRIVATE KEY", &f.pem_body()),
        "private-key",
    );
    add("deploy/id_ed25519", f.chars(B64, 70), "ssh-key-file");

    // Webhooks.
    add(
        "config/slack.ts",
        format!(
            "export const SLACK_WEBHOOK = \"https://hooks.slack.com/services/T{}/B{}/{}\";\n",
            f.chars(UPPER_DIGITS, 8),
            f.chars(UPPER_DIGITS, 10),
            f.chars(ALNUM, 24)
        ),
        "slack-webhook",
    );
    add(
        "notify.py",
        format!(
            "WEBHOOK = 'https://discord.com/api/webhooks/{}/{}'\n",
            f.chars(DIGITS, 19),
            f.chars(B64URL, 68)
        ),
        "discord-webhook",
    );
    add(
        "alerts.yml",
        format!(
            "discord:\n  url: https://discordapp.com/api/webhooks/{}/{}\n",
            f.chars(DIGITS, 18),
            f.chars(B64URL, 68)
        ),
        "discord-webhook",
    );
    add(
        "lib/slack-bot.ts",
        format!(
            "const token = '{}-{}-{}-{}';\n",
            ["xo", "xb"].concat(),
            f.chars(DIGITS, 12),
            f.chars(DIGITS, 13),
            f.chars(ALNUM, 24)
        ),
        "slack-token",
    );

    // Keys split across a concatenation.
    let tail = f.chars(ALNUM, 48);
    add(
        "lib/openai.ts",
        format!("const apiKey = \"sk-\" + \"proj-{tail}\";\n"),
        "openai-api-key",
    );
    add(
        "lib/ai.py",
        format!(
            "client = OpenAI(api_key=\"{}\")\n",
            f.key(&["sk", "-proj-"], ALNUM, 64)
        ),
        "openai-api-key",
    );

    // The other providers.
    add(
        "scripts/release.sh",
        format!(
            "curl --header \"PRIVATE-TOKEN: {}\" https://gitlab.com/api/v4/projects\n",
            f.key(&["gl", "pat-"], ALNUM, 20)
        ),
        "gitlab-pat",
    );
    add(
        "lib/mail.ts",
        format!(
            "sgMail.setApiKey(\"{}.{}\");\n",
            f.key(&["S", "G."], B64URL, 22),
            f.chars(B64URL, 43)
        ),
        "sendgrid-api-key",
    );
    add(
        "lib/sms.ts",
        format!(
            "const client = twilio(\"{}\", process.env.TWILIO_SECRET);\n",
            f.key(&["S", "K"], HEX, 32)
        ),
        "twilio-api-key",
    );
    add(
        "lib/mailgun.js",
        format!(
            "const mg = mailgun.client({{ username: 'api', key: '{}' }});\n",
            f.key(&["ke", "y-"], HEX, 32)
        ),
        "mailgun-api-key",
    );
    add(
        "app/shopify.server.ts",
        format!(
            "const adminApiAccessToken = \"{}\";\n",
            f.key(&["shp", "at_"], HEX, 32)
        ),
        "shopify-token",
    );
    add(
        "ml/hub.py",
        format!("login(token=\"{}\")\n", f.key(&["h", "f_"], LETTERS, 34)),
        "huggingface-token",
    );
    add(
        "lib/groq.ts",
        format!(
            "const groq = new Groq({{ apiKey: \"{}\" }});\n",
            f.key(&["gs", "k_"], ALNUM, 52)
        ),
        "groq-api-key",
    );
    add(
        "scripts/usage.ts",
        format!(
            "const admin = \"{}AA\";\n",
            f.key(&["sk-", "ant-admin01-"], B64URL, 93)
        ),
        "anthropic-admin-key",
    );
    add(
        "lib/claude.ts",
        format!(
            "const anthropic = new Anthropic({{ apiKey: \"{}AA\" }});\n",
            f.key(&["sk-", "ant-api03-"], B64URL, 93)
        ),
        "anthropic-api-key",
    );
    add(
        ".github/workflows/deploy.yml",
        format!("env:\n  GH_TOKEN: {}\n", f.key(&["gh", "p_"], ALNUM, 36)),
        "github-token",
    );
    add(
        "lib/maps.ts",
        format!("const MAPS = \"{}\";\n", f.key(&["AI", "za"], B64URL, 35)),
        "google-api-key",
    );
    // Random values under password- or secret-like names.
    add(
        "config/settings.py",
        format!("DB_PASSWORD = \"{}\"\n", f.chars(ALNUM, 24)),
        "generic-password",
    );
    add(
        "lib/oauth.ts",
        format!(
            "export const oauth = {{ clientId: \"shop\", clientSecret: \"{}\" }};\n",
            f.chars(ALNUM, 32)
        ),
        "generic-password",
    );
    // A template that holds a real key is still caught.
    add(
        ".env.example",
        format!("OPENAI_API_KEY={}\n", f.key(&["sk", "-proj-"], ALNUM, 64)),
        "openai-api-key",
    );
    tp
}

/// `(path, content)`: templates, documentation and code without a credential.
fn true_negatives() -> Vec<(String, String)> {
    let mut f = Fake(0xfeed);
    let mut tn: Vec<(String, String)> = Vec::new();
    let mut add = |path: &str, content: String| tn.push((path.to_string(), content));
    let at = "@";

    add(
        ".env.example",
        "# Supabase\nNEXT_PUBLIC_SUPABASE_URL=your-project-url\nNEXT_PUBLIC_SUPABASE_ANON_KEY=your-anon-key\n".into(),
    );
    add(
        ".env.local.example",
        "NEXT_PUBLIC_SUPABASE_URL=https://your-project.supabase.co\nSUPABASE_SERVICE_ROLE_KEY=your-service-role-key\nNEXT_PUBLIC_SITE_URL=http://localhost:3000\n".into(),
    );
    add(
        ".env.sample",
        "STRIPE_SECRET_KEY=sk_test_...\nSTRIPE_WEBHOOK_SECRET=whsec_...\nNEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY=pk_test_...\n".into(),
    );
    add(
        ".env.template",
        format!(
            "DATABASE_URL=postgres://user:password{at}localhost:5432/db\nREDIS_URL=redis://localhost:6379\n"
        ),
    );
    add(
        "apps/web/.env.example.local",
        "AUTH_SECRET= # openssl rand -base64 32\nAUTH_GITHUB_ID=\nAUTH_GITHUB_SECRET=\n".into(),
    );
    add(
        "worker/.dev.vars.example",
        "API_TOKEN=<your token>\n".into(),
    );
    add(
        ".env.local",
        format!(
            "# Fill these in\nOPENAI_API_KEY=\nSTRIPE_SECRET_KEY=sk_test_xxxxxxxxxxxx\nANTHROPIC_API_KEY=sk-ant-...\nDATABASE_URL=${{DATABASE_URL}}\nAPI_KEY=<your key>\nSESSION_SECRET=changeme\nRESEND_API_KEY=your-key-here\nGITHUB_TOKEN=\"\"\nSUPABASE_KEY=YOUR_SUPABASE_KEY\nDIRECT_URL=postgres://postgres:${{POSTGRES_PASSWORD}}{at}db:5432/app\n"
        ),
    );
    add(
        ".envrc",
        "use flake\ndotenv_if_exists\nexport PATH=$PWD/bin:$PATH\nexport OPENAI_API_KEY=$(op read op://dev/openai/key)\n".into(),
    );
    add(
        "README.md",
        format!(
            "# Todo app\n\nCopy `.env.example` to `.env.local` and set `OPENAI_API_KEY=sk-...` (your-api-key).\n\n```\nDATABASE_URL=postgres://user:password{at}localhost:5432/db\nSTRIPE_SECRET_KEY=sk_live_...\n```\n\nLive keys start with `sk_live_`; test keys with `sk_test_`.\n"
        ),
    );
    add(
        "docs/setup.md",
        format!(
            "Run `supabase start`, then connect to postgresql://postgres:postgres{at}127.0.0.1:54322/postgres.\nIn production use `postgres://USER:PASSWORD{at}HOST:5432/DB` or `postgres://user:pass{at}localhost/app`.\n"
        ),
    );
    add(
        "docs/prisma.md",
        format!(
            "DATABASE_URL=\"postgresql://johndoe:randompassword{at}localhost:5432/mydb?schema=public\"\n"
        ),
    );
    add(
        "docker-compose.yml",
        format!(
            "services:\n  web:\n    environment:\n      DATABASE_URL: postgres://app:${{POSTGRES_PASSWORD}}{at}db:5432/app\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_PASSWORD: ${{POSTGRES_PASSWORD}}\n"
        ),
    );
    add(
        "styles/skeleton.css",
        ".sk-folding-cube-rotate-angle-90deg { transform: rotate(90deg); }\n.sk-chase-dot-animation-delay-2 { animation-delay: -1.1s; }\n.sk-circle12-fading-circle-wrapper:before { opacity: 0; }\n".into(),
    );
    add(
        "package-lock.json",
        format!(
            "{{\n  \"packages\": {{\n    \"node_modules/next\": {{\n      \"version\": \"14.2.3\",\n      \"integrity\": \"sha512-{}==\"\n    }},\n    \"node_modules/react\": {{\n      \"integrity\": \"sha512-{}==\"\n    }}\n  }}\n}}\n",
            f.chars(B64, 86),
            f.chars(B64, 86)
        ),
    );
    add(
        "yarn.lock",
        format!(
            "next@14.2.3:\n  resolved \"https://registry.yarnpkg.com/next/-/next-14.2.3.tgz#{}\"\n  integrity sha512-{}==\n",
            f.chars(HEX, 40),
            f.chars(B64, 86)
        ),
    );
    add(
        "components/Logo.tsx",
        format!(
            "export const logo = \"data:image/png;base64,iVBORw0KGgo{}\";\n",
            f.chars(B64, 2000)
        ),
    );
    add(
        "lib/ids.ts",
        format!(
            "export const seedIds = [\"{}-{}-4{}-a{}-{}\", \"{}\"];\n",
            f.chars(HEX, 8),
            f.chars(HEX, 4),
            f.chars(HEX, 3),
            f.chars(HEX, 3),
            f.chars(HEX, 12),
            f.chars(HEX, 32)
        ),
    );
    add(
        "CHANGELOG.md",
        format!(
            "## 1.2.0\n\n- fix totals ({})\n- faster list ({})\n",
            f.chars(HEX, 40),
            f.chars(HEX, 40)
        ),
    );
    add(
        "tests/decode.test.ts",
        format!(
            "expect(decode(\"{}\").sub).toBe(\"1234567890\");\n",
            f.jwt()
        ),
    );
    add(
        "lib/stripe-client.ts",
        "export const stripePromise = loadStripe(process.env.NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY!);\n"
            .into(),
    );
    add(
        "lib/supabase/client.ts",
        "export const supabase = createBrowserClient(process.env.NEXT_PUBLIC_SUPABASE_URL!, process.env.NEXT_PUBLIC_SUPABASE_ANON_KEY!);\n"
            .into(),
    );
    add(
        "docs/deploy.md",
        "```ini\n[default]\naws_access_key_id = YOUR_ACCESS_KEY_ID\naws_secret_access_key = YOUR_SECRET_ACCESS_KEY\n```\nOr set `AWS_SECRET_ACCESS_KEY=<your-secret>`.\n".into(),
    );
    add(
        "ci/.npmrc",
        "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n".into(),
    );
    add(
        ".npmrc",
        "engine-strict=true\nlegacy-peer-deps=true\n".into(),
    );
    add(
        "config/slack.example.ts",
        "export const SLACK_WEBHOOK = \"https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX\";\n".into(),
    );
    add(
        "docs/webhooks.md",
        "POST to `https://discord.com/api/webhooks/{webhook.id}/{webhook.token}`.\n".into(),
    );
    add(
        "prisma/schema.prisma",
        "datasource db {\n  provider = \"postgresql\"\n  url      = env(\"DATABASE_URL\")\n}\n"
            .into(),
    );
    add(
        "lib/auth.ts",
        "const password = formData.get(\"password\");\nconst schema = z.object({ password: z.string().min(8) });\n".into(),
    );
    add(
        "src/i18n/en.json",
        "{ \"password\": \"Password\", \"apiKey\": \"API key\", \"token\": \"Token\" }\n".into(),
    );
    add(
        "service-account.example.json",
        format!(
            "{{\n  \"type\": \"service_account\",\n  \"private_key\": \"{}\"\n}}\n",
            pem("PRIVATE KEY", "YOUR_PRIVATE_KEY").replace('\n', "\\n")
        ),
    );
    add(
        ".github/workflows/ci.yml",
        format!(
            "env:\n  OPENAI_API_KEY: ${{{{ secrets.OPENAI_API_KEY }}}}\n  DATABASE_URL: postgres://postgres:postgres{at}localhost:5432/test\n"
        ),
    );
    add(
        "lib/validation.ts",
        "export const passwordPattern = \"^(?=.*[A-Z])(?=.*\\\\d).{8,}$\";\nexport const PASSWORD_MIN_LENGTH = 12;\n".into(),
    );
    add(
        "src/i18n/de.json",
        "{ \"passwordResetHint\": \"Mindestens 8 Zeichen\", \"secretQuestion\": \"Geheimfrage\" }\n".into(),
    );
    add(
        "docs/mailgun.md",
        "Set `MAILGUN_API_KEY=key-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx`.\n".into(),
    );
    add(
        "docs/keys.md",
        "Keys look like `sk-proj-...`, `ghp_...`, `hf_...` or `glpat-...`; never commit them.\n"
            .into(),
    );
    add(
        "lib/openai.ts",
        "const client = new OpenAI({ apiKey: process.env.OPENAI_API_KEY });\n".into(),
    );
    add("certs/ca.pem", pem("CERTIFICATE", &f.pem_body()));
    tn
}

/// The skipped entries of `kollega show WS --json`, by path.
fn show_skipped(k: &Kollega, name: &str) -> Vec<Value> {
    let show = k.json(["show", name, "--json"]);
    show["skipped"]
        .as_array()
        .expect("skipped is an array")
        .clone()
}

fn write_files(root: &Path, files: &[(String, String)]) {
    write_tree(
        root,
        &tree(files.iter().map(|(p, c)| (p.as_str(), c.as_str()))),
    );
}

#[test]
fn corpus_every_secret_is_skipped_with_its_rule_and_no_template_or_document_is() {
    let k = Kollega::new();
    let tp = true_positives();
    let tn = true_negatives();
    assert!(tp.len() >= 40, "{} true positives", tp.len());
    assert!(tn.len() >= 30, "{} true negatives", tn.len());

    // Each set in a workspace of its own: the same names (`.env.local`,
    // `.npmrc`) appear on both sides.
    let tp_dir = k.scratch("tp");
    write_files(
        &tp_dir,
        &tp.iter()
            .map(|(p, c, _)| (p.clone(), c.clone()))
            .collect::<Vec<_>>(),
    );
    let tn_dir = k.scratch("tn");
    write_files(&tn_dir, &tn);
    // One ordinary file, so the import of the positive set has something.
    std::fs::write(tp_dir.join("README.md"), "# Shop\n").expect("write README.md");
    let out = k.run([
        "import".as_ref(),
        tp_dir.as_os_str(),
        "--name".as_ref(),
        "tp".as_ref(),
    ]);
    assert_success(&out);
    let out_tn = k.run([
        "import".as_ref(),
        tn_dir.as_os_str(),
        "--name".as_ref(),
        "tn".as_ref(),
    ]);
    assert_success(&out_tn);

    let found: Vec<(String, String, String)> = show_skipped(&k, "tp")
        .iter()
        .map(|e| {
            (
                e["path"].as_str().unwrap_or_default().to_string(),
                e["reason"].as_str().unwrap_or_default().to_string(),
                e["rule"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let mut missed = Vec::new();
    for (path, _, rule) in &tp {
        let hit = found
            .iter()
            .find(|(p, reason, _)| p == path && reason == "secret");
        match hit {
            Some((_, _, got)) if got == rule => {}
            Some((_, _, got)) => missed.push(format!("{path}: rule {got:?}, expected {rule}")),
            None => missed.push(format!("{path}: not detected ({rule})")),
        }
    }
    let tn_skipped: Vec<String> = show_skipped(&k, "tn")
        .iter()
        .map(|e| {
            format!(
                "{} ({} {})",
                e["path"].as_str().unwrap_or_default(),
                e["reason"].as_str().unwrap_or_default(),
                e["rule"].as_str().unwrap_or_default()
            )
        })
        .collect();
    let detected = tp.len() - missed.len();
    println!(
        "secret scan corpus: detection {detected}/{} ({:.1} %), false positives {}/{} ({:.1} %)",
        tp.len(),
        100.0 * detected as f64 / tp.len() as f64,
        tn_skipped.len(),
        tn.len(),
        100.0 * tn_skipped.len() as f64 / tn.len() as f64
    );
    assert!(
        missed.is_empty(),
        "missed true positives:\n{}",
        missed.join("\n")
    );
    assert!(
        tn_skipped.is_empty(),
        "skipped true negatives:\n{}",
        tn_skipped.join("\n")
    );
    // No credential reached the store, its logs or the output.
    let stored = k.stored_bytes();
    for (path, content, _) in &tp {
        let value = secret_value(content);
        for (file, bytes) in &stored {
            assert!(
                !contains_bytes(bytes, value.as_bytes()),
                "the secret of {path} is in {}",
                file.display()
            );
        }
        assert!(!contains_bytes(&out.stdout, value.as_bytes()));
        assert!(!contains_bytes(&out.stderr, value.as_bytes()));
    }
}

/// The longest whitespace- and quote-free run of a file: its credential.
fn secret_value(content: &str) -> String {
    content
        .split(|c: char| c.is_whitespace() || "\"'`,;(){}".contains(c))
        .max_by_key(|s| s.len())
        .unwrap_or_default()
        .to_string()
}

const DB_PASSWORD: &str = "S3cr3t";

fn todo_env() -> String {
    format!("DATABASE_URL=postgres://admin:{DB_PASSWORD}@prod-db.internal:5432/todo_app\n")
}

#[test]
fn show_names_each_skipped_secret_with_its_rule_and_what_to_do_never_its_value() {
    let k = Kollega::new();
    let src = k.scratch("app");
    write_tree(
        &src,
        &tree([
            (
                "app/page.tsx",
                "export default function Page() {}\n".to_string(),
            ),
            (".env.local", todo_env()),
        ]),
    );
    k.import(&src, "app", &[]);

    let skipped = show_skipped(&k, "app");
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert_eq!(skipped[0]["path"], ".env.local");
    assert_eq!(skipped[0]["reason"], "secret");
    assert_eq!(skipped[0]["rule"], "url-password");
    let hint = skipped[0]["hint"].as_str().unwrap_or_default();
    assert!(hint.contains(".env"), "{hint}");

    let out = k.run(["show", "app"]);
    assert_success(&out);
    let text = stdout(&out);
    let line = text
        .lines()
        .find(|l| l.contains(".env.local"))
        .unwrap_or_default();
    assert!(
        line.contains("secret") && line.contains("url-password"),
        "{text}"
    );
    assert!(text.contains("secret store"), "{text}");
    assert!(!text.contains(DB_PASSWORD), "{text}");
    for (file, bytes) in k.stored_bytes() {
        assert!(
            !contains_bytes(&bytes, DB_PASSWORD.as_bytes()),
            "the password is in {}",
            file.display()
        );
    }
}

#[test]
fn takeover_commits_no_env_file_whose_database_url_merely_contains_a_placeholder_word() {
    let g = GitRepo::new();
    global_identity(&g);
    let src = g.k.scratch("todo");
    write_tree(
        &src,
        &tree([
            ("README.md", "# Todo\n".to_string()),
            (".env.local", todo_env()),
            (
                "lib/db.ts",
                format!(
                    "export const url = \"postgres://admin:{DB_PASSWORD}@db.example.com:5432/your_app\";\n"
                ),
            ),
        ]),
    );
    let repo = g.k.scratch("todo-repo");
    let out = g.kollega([
        "takeover".as_ref(),
        src.as_os_str(),
        "--git".as_ref(),
        repo.as_os_str(),
    ]);
    assert_success(&out);
    let text = stdout(&out);
    assert!(!text.contains(DB_PASSWORD), "{text}");
    for path in [".env.local", "lib/db.ts"] {
        let line = text.lines().find(|l| l.contains(path)).unwrap_or_default();
        assert!(
            line.contains("secret") && line.contains("url-password"),
            "{path} in:\n{text}"
        );
    }
    let log = g.git_in(&repo, &["log", "-p", "--all"]);
    let log = String::from_utf8_lossy(&log.stdout);
    assert!(log.contains("README.md"), "{log}");
    assert!(!log.contains(DB_PASSWORD), "{log}");
    assert!(!log.contains("todo_app"), "{log}");
}
