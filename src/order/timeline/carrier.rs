//! What the carrier itself said about a parcel, kept beside our coarser
//! label for its status: its latest words, and the pickup point where a
//! parcel waits to be collected.

use chrono::{DateTime, Utc};

use super::Package;

/// The carrier's own latest words about a parcel, where and when they
/// were said: shown beside our label for its status, which is coarser
/// ("Delivery failed" where the carrier said "returning to sender").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarrierWords {
    pub message: String,
    pub city: Option<String>,
    /// ISO code or name, as the carrier gave it.
    pub country: Option<String>,
    pub at: Option<DateTime<Utc>>,
}

impl Package {
    /// The newest scan that says something in the carrier's words.
    pub fn carrier_latest(&self) -> Option<CarrierWords> {
        self.events.iter().find_map(|e| {
            let message = e
                .message
                .as_deref()
                .map(str::trim)
                .filter(|m| !m.is_empty())?;
            Some(CarrierWords {
                message: message.to_string(),
                city: e.city.clone().filter(|c| !c.trim().is_empty()),
                country: e.country.clone().filter(|c| !c.trim().is_empty()),
                at: e.happened_at,
            })
        })
    }
}

/// A pickup point (a service point, a locker), as the carrier named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PickupPoint {
    /// The carrier's words, which name the place ("Ready for pickup at
    /// ICA Nära Vasastan").
    pub message: Option<String>,
    pub street: Option<String>,
    pub zip: Option<String>,
    pub city: Option<String>,
    /// ISO code or name, as the carrier gave it.
    pub country: Option<String>,
}
