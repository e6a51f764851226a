//! ecs-store
