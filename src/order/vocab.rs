//! Shopify's status vocabularies, kept verbatim.
//!
//! Every enum here carries the Admin GraphQL enum names (`PAID`,
//! `IN_TRANSIT`, ...) and reads the REST spelling of the same value
//! (`paid`, `in_transit`) too, so one model serves the GraphQL API, REST
//! webhooks and our own NDJSON format. Shopify adds values over time: a value
//! we do not know is kept as `Unknown(text)` instead of failing the whole
//! order, and deprecated values read as their documented replacements.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Declares a string enum with GraphQL names, REST-tolerant parsing,
/// legacy aliases and an `Unknown` fallback for values we do not know yet.
macro_rules! shopify_enum {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)?
        }
        $( legacy { $( $old:literal => $new:ident ),+ $(,)? } )?
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value Shopify sent that this version does not know, verbatim.
            Unknown(String),
        }

        impl $name {
            /// Every known value, in declaration order.
            pub const ALL: &'static [$name] = &[ $( $name::$variant ),+ ];

            /// The GraphQL enum name (or the unknown value as received).
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $text, )+
                    $name::Unknown(s) => s,
                }
            }

            /// Parses GraphQL (`IN_TRANSIT`) and REST (`in_transit`) spellings;
            /// deprecated values map to their replacement; anything else is kept
            /// as `Unknown`.
            pub fn parse(raw: &str) -> Self {
                let upper = raw.trim().to_ascii_uppercase().replace(['-', ' '], "_");
                match upper.as_str() {
                    $( $text => $name::$variant, )+
                    $( $( $old => $name::$new, )+ )?
                    _ => $name::Unknown(raw.trim().to_string()),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = std::borrow::Cow::<str>::deserialize(d)?;
                Ok($name::parse(&raw))
            }
        }
    };
}

shopify_enum! {
    /// `OrderDisplayFinancialStatus`: where the money stands.
    FinancialStatus {
        Pending = "PENDING",
        Authorized = "AUTHORIZED",
        PartiallyPaid = "PARTIALLY_PAID",
        Paid = "PAID",
        PartiallyRefunded = "PARTIALLY_REFUNDED",
        Refunded = "REFUNDED",
        Voided = "VOIDED",
        Expired = "EXPIRED",
    }
}

shopify_enum! {
    /// `OrderDisplayFulfillmentStatus`. REST sends `null` for unfulfilled
    /// and `partial` for partially fulfilled; both are read here.
    FulfillmentStatus {
        Unfulfilled = "UNFULFILLED",
        PartiallyFulfilled = "PARTIALLY_FULFILLED",
        Fulfilled = "FULFILLED",
        InProgress = "IN_PROGRESS",
        OnHold = "ON_HOLD",
        Scheduled = "SCHEDULED",
        RequestDeclined = "REQUEST_DECLINED",
        FulfillmentNotRequired = "FULFILLMENT_NOT_REQUIRED",
    }
    legacy {
        "OPEN" => Unfulfilled,
        "RESTOCKED" => Unfulfilled,
        "PENDING_FULFILLMENT" => InProgress,
        "PARTIAL" => PartiallyFulfilled,
    }
}

shopify_enum! {
    /// `OrderCancelReason`.
    CancelReason {
        Customer = "CUSTOMER",
        Declined = "DECLINED",
        Fraud = "FRAUD",
        Inventory = "INVENTORY",
        Other = "OTHER",
        Staff = "STAFF",
    }
}

shopify_enum! {
    /// `FulfillmentOrderStatus`: the work one location has to do.
    FulfillmentOrderStatus {
        Open = "OPEN",
        InProgress = "IN_PROGRESS",
        Scheduled = "SCHEDULED",
        OnHold = "ON_HOLD",
        Incomplete = "INCOMPLETE",
        Closed = "CLOSED",
        Cancelled = "CANCELLED",
    }
}

shopify_enum! {
    /// `FulfillmentOrderRequestStatus`: where a merchant's request to a
    /// fulfillment service stands (this app, when it is the service).
    RequestStatus {
        Unsubmitted = "UNSUBMITTED",
        Submitted = "SUBMITTED",
        Accepted = "ACCEPTED",
        Rejected = "REJECTED",
        CancellationRequested = "CANCELLATION_REQUESTED",
        CancellationAccepted = "CANCELLATION_ACCEPTED",
        CancellationRejected = "CANCELLATION_REJECTED",
        Closed = "CLOSED",
    }
}

shopify_enum! {
    /// `FulfillmentHoldReason`: why a fulfillment order is on hold.
    HoldReason {
        AwaitingPayment = "AWAITING_PAYMENT",
        AwaitingReturnItems = "AWAITING_RETURN_ITEMS",
        HighRiskOfFraud = "HIGH_RISK_OF_FRAUD",
        IncorrectAddress = "INCORRECT_ADDRESS",
        InventoryOutOfStock = "INVENTORY_OUT_OF_STOCK",
        UnknownDeliveryDate = "UNKNOWN_DELIVERY_DATE",
        OnlineStorePostPurchaseCrossSell = "ONLINE_STORE_POST_PURCHASE_CROSS_SELL",
        Other = "OTHER",
    }
}

shopify_enum! {
    /// REST `fulfillment.status` (GraphQL `FulfillmentStatus`): the state of
    /// the fulfillment record itself, not of the parcel.
    ShipmentRecordStatus {
        Pending = "PENDING",
        Open = "OPEN",
        Success = "SUCCESS",
        Cancelled = "CANCELLED",
        Error = "ERROR",
        Failure = "FAILURE",
    }
}

shopify_enum! {
    /// `FulfillmentDisplayStatus`: the 18 states a shipment shows.
    FulfillmentDisplayStatus {
        AttemptedDelivery = "ATTEMPTED_DELIVERY",
        Canceled = "CANCELED",
        CarrierPickedUp = "CARRIER_PICKED_UP",
        Confirmed = "CONFIRMED",
        Delayed = "DELAYED",
        Delivered = "DELIVERED",
        Failure = "FAILURE",
        Fulfilled = "FULFILLED",
        InTransit = "IN_TRANSIT",
        LabelPrinted = "LABEL_PRINTED",
        LabelPurchased = "LABEL_PURCHASED",
        LabelVoided = "LABEL_VOIDED",
        MarkedAsFulfilled = "MARKED_AS_FULFILLED",
        NotDelivered = "NOT_DELIVERED",
        OutForDelivery = "OUT_FOR_DELIVERY",
        PickedUp = "PICKED_UP",
        ReadyForPickup = "READY_FOR_PICKUP",
        Submitted = "SUBMITTED",
    }
    legacy {
        "CANCELLED" => Canceled,
    }
}

shopify_enum! {
    /// `FulfillmentEventStatus`: one carrier scan. Also REST
    /// `fulfillment.shipment_status`, which is the latest event's status.
    TrackingStatus {
        AttemptedDelivery = "ATTEMPTED_DELIVERY",
        CarrierPickedUp = "CARRIER_PICKED_UP",
        Confirmed = "CONFIRMED",
        Delayed = "DELAYED",
        Delivered = "DELIVERED",
        Failure = "FAILURE",
        InTransit = "IN_TRANSIT",
        LabelPrinted = "LABEL_PRINTED",
        LabelPurchased = "LABEL_PURCHASED",
        OutForDelivery = "OUT_FOR_DELIVERY",
        PickedUp = "PICKED_UP",
        ReadyForPickup = "READY_FOR_PICKUP",
    }
}

shopify_enum! {
    /// `ReturnStatus`: one return.
    ReturnState {
        Requested = "REQUESTED",
        Open = "OPEN",
        Closed = "CLOSED",
        Declined = "DECLINED",
        Canceled = "CANCELED",
    }
    legacy {
        "CANCELLED" => Canceled,
    }
}

shopify_enum! {
    /// `OrderReturnStatus`: the order's returns summed up.
    ReturnStatus {
        NoReturn = "NO_RETURN",
        ReturnRequested = "RETURN_REQUESTED",
        InProgress = "IN_PROGRESS",
        InspectionComplete = "INSPECTION_COMPLETE",
        Returned = "RETURNED",
        ReturnFailed = "RETURN_FAILED",
    }
}

impl FulfillmentDisplayStatus {
    /// Whether the parcel has left the shop: "Shipped from", not "Ships
    /// from". A label made, a request with a fulfillment service or its
    /// confirmation is not yet with a carrier; a voided one never goes.
    /// A status we do not know yet counts as gone, as Shopify calls every
    /// shipment it has fulfilled.
    pub fn has_left(&self) -> bool {
        !matches!(
            self,
            Self::LabelPrinted
                | Self::LabelPurchased
                | Self::Submitted
                | Self::Confirmed
                | Self::Canceled
                | Self::LabelVoided
        )
    }
}

impl TrackingStatus {
    /// The shipment display status a parcel has after this scan.
    pub fn as_display_status(&self) -> FulfillmentDisplayStatus {
        FulfillmentDisplayStatus::parse(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parcel_has_left_once_a_carrier_has_it_or_shopify_calls_it_shipped() {
        let not_yet: Vec<&str> = FulfillmentDisplayStatus::ALL
            .iter()
            .filter(|s| !s.has_left())
            .map(|s| s.as_str())
            .collect();
        assert_eq!(
            not_yet,
            [
                "CANCELED",
                "CONFIRMED",
                "LABEL_PRINTED",
                "LABEL_PURCHASED",
                "LABEL_VOIDED",
                "SUBMITTED"
            ]
        );
        assert!(FulfillmentDisplayStatus::parse("SOMETHING_NEW").has_left());
    }

    #[test]
    fn graphql_and_rest_spellings_read_the_same() {
        assert_eq!(FinancialStatus::parse("PAID"), FinancialStatus::Paid);
        assert_eq!(FinancialStatus::parse("paid"), FinancialStatus::Paid);
        assert_eq!(
            FinancialStatus::parse("partially_refunded"),
            FinancialStatus::PartiallyRefunded
        );
        assert_eq!(
            TrackingStatus::parse("out_for_delivery"),
            TrackingStatus::OutForDelivery
        );
    }

    #[test]
    fn legacy_values_read_as_their_replacements() {
        assert_eq!(
            FulfillmentStatus::parse("OPEN"),
            FulfillmentStatus::Unfulfilled
        );
        assert_eq!(
            FulfillmentStatus::parse("RESTOCKED"),
            FulfillmentStatus::Unfulfilled
        );
        assert_eq!(
            FulfillmentStatus::parse("PENDING_FULFILLMENT"),
            FulfillmentStatus::InProgress
        );
        assert_eq!(
            FulfillmentStatus::parse("partial"),
            FulfillmentStatus::PartiallyFulfilled
        );
    }

    #[test]
    fn unknown_values_are_kept_verbatim_and_round_trip() {
        let s: FulfillmentDisplayStatus =
            serde_json::from_str("\"TELEPORTED\"").expect("tolerated");
        assert_eq!(s, FulfillmentDisplayStatus::Unknown("TELEPORTED".into()));
        assert_eq!(serde_json::to_string(&s).expect("ser"), "\"TELEPORTED\"");
    }

    #[test]
    fn there_are_eighteen_display_statuses() {
        assert_eq!(FulfillmentDisplayStatus::ALL.len(), 18);
    }
}
