; Inno Setup script for MCR Studio on Windows (Inno Setup 6: https://jrsoftware.org/isinfo.php).
; It cannot be built on the Linux build machine; on a Windows x64 machine:
;
;   1. scripts\setup's equivalent: Python 3.11 x64, then in the checkout
;        py -3.11 -m venv .venv
;        .venv\Scripts\python -m pip install -c constraints.txt -e .[dev]
;      (the pinned torch wheel from PyPI is the CPU build on Windows; for NVIDIA GPUs install
;      the CUDA build of the same version from PyTorch's own index first.)
;   2. The icon: convert assets\icons\mcr-studio.svg to packaging\windows\mcr-studio.ico
;      (16-256 px; e.g. `magick -background none mcr-studio.svg -define
;      icon:auto-resize=256,64,48,32,16 mcr-studio.ico`). Without it the programs get
;      PyInstaller's default icon.
;   3. The bundle, with the same spec as on Linux (on Windows it also makes a console `mcr.exe`
;      for the command line, next to the windowed `mcr-studio.exe`):
;        .venv\Scripts\python -m PyInstaller --noconfirm --distpath packaging\dist ^
;          --workpath packaging\dist\.work packaging\mcr-studio.spec
;   4. Check it: packaging\dist\mcr-studio\mcr-studio.exe --self-test --report self-test.txt
;      (a windowed program prints nothing: read self-test.txt; `start /wait` gives the exit
;      status in %ERRORLEVEL%, 0 = passed)
;   5. The installer:  "C:\Program Files (x86)\Inno Setup 6\ISCC.exe" packaging\windows\mcr-studio.iss
;      -> packaging\dist\mcr-studio-0.1.0-windows-x64-setup.exe
;
; The installer puts the bundle in Program Files (or the user's programs folder when not run as
; administrator), a Start menu entry and optionally a desktop icon, adds the folder to PATH for
; `mcr` when asked, runs the self-test once at the end when asked, and uninstalls cleanly
; (Windows "Apps"). Packs are added without reinstalling: `mcr pack import PATH`, or a pack
; folder dropped into the program folder's `packs` subfolder (administrator rights for Program
; Files). User data (libraries, imported packs, self-test reports) lives in
; %LOCALAPPDATA%\mcr-studio and is left in place by the uninstaller.

#define AppName "MCR Studio"
#define AppVersion "0.1.0"
#define AppPublisher "MCR Studio"
#define AppExe "mcr-studio.exe"
#define Bundle "..\dist\mcr-studio"

[Setup]
AppId={{6B0D2E4C-4E57-4D2B-9E0E-5C1D2A7F3B11}
AppName={#AppName}
AppVersion={#AppVersion}
AppPublisher={#AppPublisher}
DefaultDirName={autopf}\MCR Studio
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
; per-user install without administrator rights, or for all users when elevated
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\dist
OutputBaseFilename=mcr-studio-{#AppVersion}-windows-x64-setup
; the bundle is large (torch): LZMA2 on solid blocks keeps the installer small
Compression=lzma2/max
SolidCompression=yes
LZMAUseSeparateProcess=yes
DiskSpanning=no
WizardStyle=modern
UninstallDisplayIcon={app}\{#AppExe}
ChangesEnvironment=yes

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "addtopath"; Description: "Add the program folder to PATH (for the mcr command line)"; Flags: unchecked

[Files]
; the whole onedir bundle: mcr-studio.exe, mcr.exe and _internal\ (Python, Qt, torch, the engine,
; the demo pack)
Source: "{#Bundle}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Dirs]
; where a pack folder can be dropped (found next to the program without reinstalling)
Name: "{app}\packs"

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\{#AppExe}"
Name: "{group}\{#AppName} self-test"; Filename: "{app}\{#AppExe}"; Parameters: "--self-test --report ""{localappdata}\mcr-studio\self-test.txt"""
Name: "{group}\Uninstall {#AppName}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Registry]
; PATH for `mcr`, per user or for the machine depending on how the installer runs
Root: HKA; Subkey: "{code:EnvironmentKey}"; ValueType: expandsz; ValueName: "Path"; ValueData: "{olddata};{app}"; Tasks: addtopath; Check: NeedsAddPath(ExpandConstant('{app}'))

[Run]
Filename: "{app}\{#AppExe}"; Parameters: "--self-test --report ""{localappdata}\mcr-studio\self-test.txt"""; Description: "Run the self-test now (about a minute: builds the demo library)"; Flags: postinstall skipifsilent unchecked waituntilterminated
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
; what the program writes inside its own folder at run time (Python caches); user data stays
Type: filesandordirs; Name: "{app}\_internal\__pycache__"
Type: dirifempty; Name: "{app}\packs"
Type: dirifempty; Name: "{app}"

[Code]
function EnvironmentKey(Param: String): String;
begin
  if IsAdminInstallMode then
    Result := 'SYSTEM\CurrentControlSet\Control\Session Manager\Environment'
  else
    Result := 'Environment';
end;

function NeedsAddPath(Dir: String): Boolean;
var
  Paths: String;
begin
  if not RegQueryStringValue(HKA, EnvironmentKey(''), 'Path', Paths) then
  begin
    Result := True;
    exit;
  end;
  Result := Pos(';' + Uppercase(Dir) + ';', ';' + Uppercase(Paths) + ';') = 0;
end;

procedure RemovePath(Dir: String);
var
  Paths: String;
  P: Integer;
begin
  if not RegQueryStringValue(HKA, EnvironmentKey(''), 'Path', Paths) then
    exit;
  P := Pos(';' + Uppercase(Dir) + ';', ';' + Uppercase(Paths) + ';');
  if P = 0 then
    exit;
  if P > 1 then
    Delete(Paths, P - 1, Length(Dir) + 1)  { the ';' before it and the folder }
  else
    Delete(Paths, 1, Length(Dir) + 1);  { the first entry and the ';' after it }
  RegWriteExpandStringValue(HKA, EnvironmentKey(''), 'Path', Paths);
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
begin
  if CurUninstallStep = usPostUninstall then
    RemovePath(ExpandConstant('{app}'));
end;
