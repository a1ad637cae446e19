//! The `ted_gateway` fuzz target body (placeholder).
