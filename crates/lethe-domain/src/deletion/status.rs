//! Where a request stands, and which moves it may make.

use serde::{Deserialize, Serialize};

wire_enum!(
    /// A deletion request's status.
    RequestStatus {
        Pending = "pending",
        Approved = "approved",
        Scheduled = "scheduled",
        Running = "running",
        Completed = "completed",
        PartiallyCompleted = "partially_completed",
        Failed = "failed",
        Canceled = "canceled",
        Rejected = "rejected",
    }
);

wire_enum!(
    /// The surface a request came through.
    RequestSource { V1 = "v1", LivePerson = "liveperson", KoreAi = "koreai", Intercom = "intercom", Cli = "cli" }
);

impl RequestStatus {
    /// Still inside the cancel window: nothing is final yet.
    pub fn is_cancellable(self) -> bool {
        self == RequestStatus::Pending
    }

    /// No further transition will happen.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            RequestStatus::Completed
                | RequestStatus::PartiallyCompleted
                | RequestStatus::Canceled
                | RequestStatus::Rejected
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pending_can_be_canceled_and_terminal_states_are_known() {
        assert!(RequestStatus::Pending.is_cancellable());
        assert!(!RequestStatus::Approved.is_cancellable());
        assert!(RequestStatus::Rejected.is_terminal());
        assert!(!RequestStatus::Failed.is_terminal());
        assert_eq!(
            RequestStatus::parse("partially_completed"),
            Some(RequestStatus::PartiallyCompleted)
        );
    }
}
