from django.contrib.auth import get_user_model
from rest_framework import serializers

from accounts.names import normalize_name


class NameSerializerField(serializers.CharField):
    """A name, normalised before it is validated (so max_length counts what is stored)."""

    def to_internal_value(self, data):
        return normalize_name(super().to_internal_value(data))


class RegisterSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, min_length=1, max_length=128, style={"input_type": "password"})
    full_name = NameSerializerField(max_length=200, required=False, allow_blank=True, default="")


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = get_user_model()
        fields = ["id", "email", "full_name", "date_joined"]
        read_only_fields = fields


class CredentialsSerializer(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
