//! lethe's domain vocabulary: identifiers, entities and search filters, with no I/O.

pub mod conversation;
pub mod error;
pub mod filter;
pub mod ids;
pub mod metrics;
pub mod scope;
pub mod time;

pub use error::{DomainError, DomainResult};
pub use ids::{BotId, ConsumerId, ConversationId, FileId, MessageId, SiteId, SurveyId};
pub use scope::{Scope, Scopes};
pub use time::Millis;
