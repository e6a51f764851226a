//! ecs-driver
