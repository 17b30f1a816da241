//! lethe's domain vocabulary: identifiers, entities and search filters, with no I/O.

#[macro_use]
mod wire_enum;

pub mod changelog;
pub mod conversation;
pub mod deletion;
pub mod error;
pub mod filter;
pub mod ids;
pub mod metrics;
pub mod scope;
pub mod settings;
pub mod time;

pub use error::{DomainError, DomainResult};
pub use ids::{BotId, ConsumerId, ConversationId, FileId, MessageId, SiteId, SurveyId};
pub use scope::{Scope, Scopes};
pub use time::Millis;
