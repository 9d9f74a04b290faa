//! Scenario tests following the Solar Forecast Arbiter documentation.
