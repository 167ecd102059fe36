//! The schema as a partner principal sees it, built from the full schema and
//! the one partner-view declaration (`policy::partner_view`).
//!
//! async-graphql's `visible` only hides things from introspection and does
//! not stop a query from selecting them, and `sdl()` ignores it. So partner
//! requests are first validated against this separate schema, in which
//! internal types and fields simply do not exist: an internal field is
//! refused with exactly the error a misspelt field gets. Partner
//! introspection is answered from it too, and `schema.partner.graphql` is its
//! SDL. Its resolvers return nothing: partner data is still resolved by the
//! one real schema, with rows scoped in SQL.

use async_graphql::{
    dynamic::{
        Enum, EnumItem, Field, FieldFuture, InputObject, InputValue, Interface, InterfaceField,
        Object, Scalar, Schema, SchemaError, Subscription, SubscriptionField,
        SubscriptionFieldFuture, TypeRef,
    },
    parser::{
        parse_schema,
        types::{
            BaseType, ConstDirective, FieldDefinition, InputValueDefinition, Type, TypeKind,
            TypeSystemDefinition,
        },
    },
};

use crate::policy::partner_view;

/// Builds the partner schema from the full schema's SDL.
pub fn build(full_sdl: &str) -> Result<Schema, SchemaError> {
    let document = parse_schema(full_sdl).map_err(|e| SchemaError(e.to_string()))?;
    let subscriptions = partner_view::visible("Subscription").map(|_| "Subscription");
    let mut builder = Schema::build("Query", Some("Mutation"), subscriptions).disable_suggestions();
    for definition in document.definitions {
        let TypeSystemDefinition::Type(definition) = definition else {
            continue;
        };
        let definition = definition.node;
        let name = definition.name.node.to_string();
        if partner_view::visible(&name).is_none() {
            continue;
        }
        let description = definition.description.map(|d| d.node);
        let fields = |fields: Vec<async_graphql::Positioned<FieldDefinition>>| {
            fields
                .into_iter()
                .map(|f| f.node)
                .filter(|f| partner_view::is_visible(&name, f.name.node.as_str()))
                .collect::<Vec<_>>()
        };
        match definition.kind {
            TypeKind::Object(object) if name == "Subscription" => {
                let mut ty = Subscription::new(&name);
                for field in fields(object.fields) {
                    ty = ty.field(subscription_field(field));
                }
                builder =
                    builder.register(with_description(ty, description, Subscription::description));
            }
            TypeKind::Object(object) => {
                let mut ty = Object::new(&name);
                for interface in object.implements {
                    if partner_view::visible(interface.node.as_str()).is_some() {
                        ty = ty.implement(interface.node.as_str());
                    }
                }
                for field in fields(object.fields) {
                    ty = ty.field(output_field(field));
                }
                builder = builder.register(with_description(ty, description, Object::description));
            }
            TypeKind::Interface(interface) => {
                let mut ty = Interface::new(&name);
                for field in fields(interface.fields) {
                    let mut f =
                        InterfaceField::new(field.name.node.as_str(), type_ref(&field.ty.node));
                    if let Some(d) = field.description {
                        f = f.description(d.node);
                    }
                    for argument in field.arguments {
                        f = f.argument(input_value(argument.node));
                    }
                    ty = ty.field(f);
                }
                builder =
                    builder.register(with_description(ty, description, Interface::description));
            }
            TypeKind::InputObject(input) => {
                let mut ty = InputObject::new(&name);
                for field in input.fields.into_iter().map(|f| f.node) {
                    if partner_view::is_visible(&name, field.name.node.as_str()) {
                        ty = ty.field(input_value(field));
                    }
                }
                builder =
                    builder.register(with_description(ty, description, InputObject::description));
            }
            TypeKind::Enum(values) => {
                let mut ty = Enum::new(&name);
                for value in values.values.into_iter().map(|v| v.node) {
                    if partner_view::is_visible(&name, value.value.node.as_str()) {
                        let mut item = EnumItem::new(value.value.node.as_str());
                        if let Some(d) = value.description {
                            item = item.description(d.node);
                        }
                        ty = ty.item(item);
                    }
                }
                builder = builder.register(with_description(ty, description, Enum::description));
            }
            TypeKind::Scalar => {
                let mut scalar = Scalar::new(&name);
                if let Some(url) = specified_by(&definition.directives) {
                    scalar = scalar.specified_by_url(url);
                }
                builder =
                    builder.register(with_description(scalar, description, Scalar::description));
            }
            TypeKind::Union(_) => {}
        }
    }
    builder.finish()
}

/// The URL of a `@specifiedBy(url: …)` directive.
fn specified_by(directives: &[async_graphql::Positioned<ConstDirective>]) -> Option<String> {
    directives
        .iter()
        .find(|d| d.node.name.node == "specifiedBy")
        .and_then(|d| d.node.get_argument("url"))
        .and_then(|url| match &url.node {
            async_graphql::Value::String(url) => Some(url.clone()),
            _ => None,
        })
}

fn with_description<T>(ty: T, description: Option<String>, set: fn(T, String) -> T) -> T {
    match description {
        Some(d) => set(ty, d),
        None => ty,
    }
}

/// A field that resolves to nothing: this schema validates, it does not fetch.
fn output_field(field: FieldDefinition) -> Field {
    let mut f = Field::new(field.name.node.as_str(), type_ref(&field.ty.node), |_| {
        FieldFuture::new(async { Ok(None::<async_graphql::Value>) })
    });
    if let Some(d) = field.description {
        f = f.description(d.node);
    }
    for argument in field.arguments {
        f = f.argument(input_value(argument.node));
    }
    f
}

/// A subscription that yields nothing, for the same reason.
fn subscription_field(field: FieldDefinition) -> SubscriptionField {
    let mut f = SubscriptionField::new(field.name.node.as_str(), type_ref(&field.ty.node), |_| {
        SubscriptionFieldFuture::new(async {
            Ok(futures_util::stream::empty::<
                async_graphql::Result<async_graphql::Value>,
            >())
        })
    });
    if let Some(d) = field.description {
        f = f.description(d.node);
    }
    for argument in field.arguments {
        f = f.argument(input_value(argument.node));
    }
    f
}

fn input_value(value: InputValueDefinition) -> InputValue {
    let mut v = InputValue::new(value.name.node.as_str(), type_ref(&value.ty.node));
    if let Some(d) = value.description {
        v = v.description(d.node);
    }
    if let Some(default) = value.default_value {
        v = v.default_value(default.node);
    }
    v
}

fn type_ref(ty: &Type) -> TypeRef {
    let base = match &ty.base {
        BaseType::Named(name) => TypeRef::Named(name.to_string().into()),
        BaseType::List(inner) => TypeRef::List(Box::new(type_ref(inner))),
    };
    if ty.nullable {
        base
    } else {
        TypeRef::NonNull(Box::new(base))
    }
}
