//! `lethe demo`: a realistic, reproducible data set. Most consumers have a few
//! conversations; the busiest 1% receive a `skew` share of all of them (hundreds each
//! at scale).

use crate::args::{DemoArgs, Global};
use crate::serve::open;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use indicatif::{ProgressBar, ProgressStyle};
use lethe_domain::time::to_rfc3339;
use lethe_domain::{Scopes, SiteId};
use lethe_service::import::Importer;
use lethe_service::wire::*;
use lethe_service::Lethe;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::io::Write;

const FIRST: [&str; 12] = [
    "Ada", "Bruno", "Chiara", "Dmitri", "Emma", "Farid", "Greta", "Hiro", "Ines", "Jonas", "Kemi", "Lucia",
];
const LAST: [&str; 12] = [
    "Okafor",
    "Lindqvist",
    "Moreau",
    "Tanaka",
    "Novak",
    "Haddad",
    "Schmidt",
    "Rossi",
    "Kowalski",
    "Silva",
    "Murphy",
    "Nakamura",
];
const CONSUMER_LINES: [&str; 6] = [
    "Hi, my order hasn't arrived yet",
    "I was charged twice for the same order",
    "Can I change the delivery address to my new flat?",
    "My account is locked, can you help?",
    "The parcel was damaged when it arrived",
    "I'd like to cancel my subscription",
];
const AGENT_LINES: [&str; 5] = [
    "Thanks for reaching out, let me check that for you",
    "Could you confirm the e-mail address on the account?",
    "I've issued a refund, it should arrive in 3-5 days",
    "I've updated the address on your order",
    "Is there anything else I can help with?",
];
/// 2026-01-01T00:00:00Z: a fixed base keeps a seed's data identical on every run.
const BASE_MS: i64 = 1_767_225_600_000;
const SPAN_MS: i64 = 180 * 86_400_000;

/// What to generate.
#[derive(Debug, Clone)]
pub struct Spec {
    pub site: SiteId,
    pub consumers: u64,
    pub conversations: u64,
    pub messages: u32,
    pub skew: f64,
    pub seed: u64,
}

struct Person {
    first: &'static str,
    last: &'static str,
    email: String,
    phone: String,
    cid: String,
}

fn person(i: u64) -> Person {
    let first = FIRST[(i % 12) as usize];
    let last = LAST[((i / 12) % 12) as usize];
    Person {
        first,
        last,
        email: format!("{}.{}{i}@example.com", first.to_lowercase(), last.to_lowercase()),
        phone: format!("+1555{:07}", i % 10_000_000),
        cid: format!("cid-{i:08x}"),
    }
}

fn consumer(i: u64) -> ImportLine {
    let p = person(i);
    ImportLine::Consumer(ConsumerInput {
        id: Some(format!("cons-{i:07}")),
        first_name: Some(p.first.into()),
        last_name: Some(p.last.into()),
        email: Some(p.email),
        phone: Some(p.phone),
        private_token: Some(format!("tok-{:016x}", i.wrapping_mul(0x9E37_79B9_7F4A_7C15))),
        channel_identities: vec![ChannelIdentityInput {
            channel: "web".into(),
            cid: p.cid,
        }],
        attributes: [("customer_number".to_owned(), format!("C-{i}"))].into_iter().collect(),
    })
}

struct Generator {
    spec: Spec,
    rng: ChaCha8Rng,
    next: u64,
}

impl Generator {
    fn new(spec: Spec) -> Self {
        let rng = ChaCha8Rng::seed_from_u64(spec.seed);
        Self { spec, rng, next: 0 }
    }

    fn pick_consumer(&mut self) -> u64 {
        let hot = (self.spec.consumers / 100).max(1);
        if self.rng.gen_bool(self.spec.skew.clamp(0.0, 1.0)) {
            self.rng.gen_range(0..hot)
        } else {
            self.rng.gen_range(0..self.spec.consumers)
        }
    }

    fn conversation(&mut self, j: u64) -> ImportLine {
        let who = self.pick_consumer();
        let p = person(who);
        let chat = self.rng.gen_bool(0.2);
        let id = if chat {
            format!("{}{}", self.spec.site, 1_000_000_000 + j)
        } else {
            format!("conv-{j:08}")
        };
        let start = BASE_MS + self.rng.gen_range(0..SPAN_MS);
        let closed = self.rng.gen_bool(0.9);
        let mut time = start;
        let mut messages = Vec::new();
        let with_file = closed && self.rng.gen_bool(0.05);
        for k in 0..self.spec.messages {
            time += self.rng.gen_range(10_000..120_000);
            let by_consumer = k % 2 == 0;
            let text = if by_consumer {
                format!(
                    "{} (ref {}-{k})",
                    CONSUMER_LINES.choose(&mut self.rng).expect("non-empty"),
                    p.email
                )
            } else {
                AGENT_LINES.choose(&mut self.rng).expect("non-empty").to_string()
            };
            messages.push(message(format!("m{k}"), time, by_consumer, Some(text), None));
        }
        let mut files = Vec::new();
        if with_file {
            time += 5_000;
            let bytes: Vec<u8> = (0..256).map(|_| self.rng.gen()).collect();
            files.push(FileInput {
                id: format!("f-{j}"),
                name: Some(format!("receipt-{}.png", p.last.to_lowercase())),
                content_type: "image/png".into(),
                data_base64: B64.encode(bytes),
            });
            messages.push(message("mf".into(), time, true, None, Some(format!("f-{j}"))));
        }
        let surveys = if closed && self.rng.gen_bool(0.3) {
            vec![SurveyInput {
                survey_id: "csat".into(),
                answers: vec![
                    SurveyAnswerInput {
                        question_id: "q1".into(),
                        question: Some("How satisfied are you?".into()),
                        choice: Some(self.rng.gen_range(1..=5).to_string()),
                        text: None,
                    },
                    SurveyAnswerInput {
                        question_id: "q2".into(),
                        question: Some("Anything to add?".into()),
                        choice: None,
                        text: Some(format!("{} here, the agent was helpful", p.first)),
                    },
                ],
            }]
        } else {
            Vec::new()
        };
        ImportLine::Conversation(Box::new(ConversationInput {
            id,
            kind: if chat { "chat" } else { "messaging" }.into(),
            consumer_id: Some(format!("cons-{who:07}")),
            bot_id: None,
            channel_user_id: Some(p.cid.clone()),
            start_time: to_rfc3339(start),
            end_time: closed.then(|| to_rfc3339(time + 60_000)),
            close_reason: closed.then(|| "AGENT".into()),
            source: Some(
                ["APP", "WEB", "SMS", "WHATSAPP"]
                    .choose(&mut self.rng)
                    .expect("non-empty")
                    .to_string(),
            ),
            device: Some(
                ["DESKTOP", "MOBILE", "TABLET"]
                    .choose(&mut self.rng)
                    .expect("non-empty")
                    .to_string(),
            ),
            agent_id: Some(format!("agent-{}", self.rng.gen_range(1..=40))),
            skill_id: Some(format!("skill-{}", self.rng.gen_range(1..=8))),
            csat: closed.then(|| self.rng.gen_range(1..=5)),
            mcs: closed.then(|| self.rng.gen_range(0..=100)),
            consumer_participant: Some(ParticipantInput {
                first_name: Some(p.first.into()),
                last_name: Some(p.last.into()),
                email: Some(p.email.clone()),
                phone: Some(p.phone.clone()),
            }),
            attributes: vec![
                AttributeInput {
                    kind: "customerInfo".into(),
                    name: "customerId".into(),
                    value: format!("C-{who}"),
                },
                AttributeInput {
                    kind: "personalInfo".into(),
                    name: "email".into(),
                    value: p.email,
                },
            ],
            messages,
            surveys,
            files,
        }))
    }
}

fn message(id: String, time: i64, by_consumer: bool, text: Option<String>, file_id: Option<String>) -> MessageInput {
    MessageInput {
        id,
        time: to_rfc3339(time),
        sent_by: if by_consumer { "consumer" } else { "agent" }.into(),
        participant_id: Some(if by_consumer { "consumer-1" } else { "agent-1" }.into()),
        message_type: if file_id.is_some() { "hosted_file" } else { "text" }.into(),
        text,
        url: None,
        caption: None,
        file_id,
        content: None,
    }
}

impl Iterator for Generator {
    type Item = ImportLine;

    fn next(&mut self) -> Option<ImportLine> {
        let n = self.next;
        self.next += 1;
        if n < self.spec.consumers {
            Some(consumer(n))
        } else if n < self.spec.consumers + self.spec.conversations {
            Some(self.conversation(n - self.spec.consumers))
        } else {
            None
        }
    }
}

fn bar(total: u64, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} records ({per_sec}, eta {eta})",
        )
        .expect("valid template"),
    );
    bar
}

/// Generates into an account through the import pipeline.
pub async fn fill(lethe: &Lethe, spec: Spec, quiet: bool) -> anyhow::Result<()> {
    let total = spec.consumers + spec.conversations;
    let progress = bar(total, quiet);
    let mut importer = Importer::new(lethe.clone(), spec.site.clone(), 500).await?;
    for (i, line) in Generator::new(spec).enumerate() {
        importer
            .push_record(i as u64 + 1, line)
            .await
            .map_err(|f| anyhow::anyhow!("record {}: {}", f.line, f.error))?;
        progress.inc(1);
    }
    let report = importer
        .finish()
        .await
        .map_err(|f| anyhow::anyhow!("record {}: {}", f.line, f.error))?;
    progress.finish_and_clear();
    eprintln!(
        "lethe: demo data: {} consumers, {} conversations, {} messages",
        report.consumers, report.conversations_created, report.messages
    );
    Ok(())
}

/// `lethe demo`
pub async fn demo(global: &Global, args: DemoArgs) -> anyhow::Result<()> {
    let spec = Spec {
        site: SiteId::parse(&args.account)?,
        consumers: args.consumers.max(1),
        conversations: args.conversations,
        messages: args.messages,
        skew: args.skew,
        seed: args.seed,
    };
    if let Some(path) = &args.out {
        let file = std::fs::File::create(path).map_err(|e| anyhow::anyhow!("cannot create {}: {e}", path.display()))?;
        let mut out = std::io::BufWriter::new(file);
        let progress = bar(spec.consumers + spec.conversations, args.quiet);
        for line in Generator::new(spec) {
            serde_json::to_writer(&mut out, &line)?;
            out.write_all(b"\n")?;
            progress.inc(1);
        }
        out.flush()?;
        progress.finish_and_clear();
        return Ok(());
    }
    let lethe = open(global).await?.state.lethe.clone();
    if lethe.store.account(spec.site.as_str()).await?.is_none() {
        lethe.create_account(&spec.site).await?;
    }
    fill(&lethe, spec, args.quiet).await
}

/// For `serve --demo`: on first start, a `demo` account with data and a key for it.
pub async fn seed_demo_once(lethe: &Lethe) -> anyhow::Result<()> {
    let site = SiteId::parse("demo")?;
    if lethe.store.account(site.as_str()).await?.is_some() {
        eprintln!("lethe: the demo account exists already; create more keys with `lethe keys create --account demo …`");
        return Ok(());
    }
    lethe.create_account(&site).await?;
    let scopes = Scopes::parse_list("conversations:read,conversations:write,admin")?;
    let key = lethe.create_key(Some(&site), scopes, "demo").await?;
    fill(
        lethe,
        Spec {
            site,
            consumers: 200,
            conversations: 2000,
            messages: 10,
            skew: 0.1,
            seed: 42,
        },
        true,
    )
    .await?;
    eprintln!(
        "lethe: demo account `demo` is ready. Its key (shown once):\n{}",
        key.secret
    );
    Ok(())
}
