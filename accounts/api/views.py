from django.contrib.auth import authenticate
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts import limits, services
from accounts.api.serializers import CredentialsSerializer, RegisterSerializer, TokenSerializer, UserSerializer


class AnonymousAuthView(APIView):
    """Endpoints for people without credentials yet: open to all, but on the tight "auth" rate."""

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"


class RegisterView(AnonymousAuthView):
    @extend_schema(request=RegisterSerializer, responses={201: UserSerializer})
    def post(self, request):
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        wait = limits.retry_after(request, limits.SIGNUP)
        if wait is not None:
            raise Throttled(wait=wait, detail="Too many accounts were created from your network.")
        user = services.user_register(**serializer.validated_data)
        limits.record(request, limits.SIGNUP)
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)


class TokenView(AnonymousAuthView):
    @extend_schema(request=CredentialsSerializer, responses={200: TokenSerializer})
    def post(self, request):
        serializer = CredentialsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(
            request, username=serializer.validated_data["email"], password=serializer.validated_data["password"]
        )
        wait = getattr(request, "login_retry_after", None)
        if wait is not None:  # locked out by the login limits (accounts.backends.LoginLimitBackend)
            raise Throttled(wait=wait, detail="Too many failed login attempts for this account or address.")
        if user is None:
            raise ValidationError(
                {"non_field_errors": ["Unable to log in with the provided credentials."]}, code="authorization"
            )
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


class LogoutView(APIView):
    """Ends API access: deletes the account's token (sessions log out through /accounts/logout/)."""

    @extend_schema(request=None, responses={204: OpenApiResponse(description="The token no longer works.")})
    def post(self, request):
        services.user_tokens_revoke(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    @extend_schema(responses={200: UserSerializer})
    def get(self, request):
        return Response(UserSerializer(request.user).data)
